"""SecureSubmit: document incidents offline and deliver them safely to trusted partners."""

__version__ = "0.1.0"
