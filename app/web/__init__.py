"""The web page under /app/: its settings for the browser, its static files and their
Content-Security-Policy, and the API docs served from the same build."""
