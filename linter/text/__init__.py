"""Clinical text read below the rules (the reader and the rules both use it; it imports neither)."""
