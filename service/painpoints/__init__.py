"""The residents' pain points (十大民生): themes ranked over hotline orders, visits and department problems."""
