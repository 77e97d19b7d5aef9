"""zoompac: an offline, stateful emulator of Zoom's PAC API, with a client and a CLI."""

__version__ = "0.1.0"
