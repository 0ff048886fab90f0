"""Pure ASGI middleware, one concern per module, stacked by ``app.main`` (outermost first):

request_id → security_headers → telemetry → (CORS) → body_guard → the routes.
"""
