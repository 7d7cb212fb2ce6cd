"""TwitchWatch: counts muscle twitches per body site from wearable sensors. Not a diagnostic device."""

__version__ = "0.1.0"
