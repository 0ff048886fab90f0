"""Tasks: an upload read and checked, reserved in Redis, published to RabbitMQ; its result
read back, or waited for."""
