"""RabbitMQ: the consumer that takes tasks and acks them, and the loop that reconnects it."""
