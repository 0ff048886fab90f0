"""Signed webhooks (Standard Webhooks) for every terminal result, delivered off the
inference path with retries."""
