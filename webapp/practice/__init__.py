"""Live practice: takes, note results, the practice socket and the listening-engine bridge."""
