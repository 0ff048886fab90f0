"""Who is calling, and may they: Firebase ID tokens, App Check, per-user rate limits."""
