"""One router per file: health, discovery, hooks, feedback, lint."""
