"""Everything the helper keeps on disk, all under one data directory."""
