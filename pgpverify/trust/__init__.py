"""Trust inputs: ownership records (and, later, index-published keyrings and lock files)."""
