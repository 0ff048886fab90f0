"""Models as a resource: the registry the gateway serves (``registry``), and their files as
cacheable, resumable downloads (``downloads``)."""
