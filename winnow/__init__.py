"""winnow: learn to separate the parts of a web page."""
