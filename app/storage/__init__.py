"""The gateway's side of the photo bucket: storing originals, signing URLs for their owner,
direct uploads from the phone, and deleting a task's images (on request, or when they are
older than the retention). ``python -m app.storage`` runs the setup and the purge job."""
