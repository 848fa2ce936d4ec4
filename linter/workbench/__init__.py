"""The pharmacist workbench: uploads streamed to disk, lint jobs with progress, and their reports."""
