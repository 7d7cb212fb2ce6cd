"""TwitchWatch: counts muscle twitches per body site from wearable sensors. Not a diagnostic device."""

__version__ = "0.1.0"
#: The day this version was released (UTC): the edge agent takes a clock that reads earlier for
#: an unset clock (a Raspberry Pi without a real-time clock boots in 1970) and cuts no windows
#: until it is set. Move it forward with each release, never past the release itself.
__released__ = "2026-12-01"
