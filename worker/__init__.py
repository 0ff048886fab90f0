"""snapmatch worker: consumes tasks from RabbitMQ, classifies images, stores results in Redis."""
