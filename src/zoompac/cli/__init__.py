"""The `zoompac` command line."""
