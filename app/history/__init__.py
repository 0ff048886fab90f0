"""Task history: each user's tasks in MariaDB, kept for days after their results expired."""
