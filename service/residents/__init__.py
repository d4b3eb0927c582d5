"""Residents' voice: the themes residents complain about, and the classifier that reads them from free text."""
