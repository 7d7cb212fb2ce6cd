/*
 * The Info document (hardware/README.md section 2.5): compact UTF-8 JSON of at most 512 bytes,
 * built once at boot, byte for byte what the Python codec's SensorInfo.encode() gives for the
 * same fields (keys in the same order, json.dumps(separators=(",", ":")) escaping).
 */
#ifndef TW_INFO_H
#define TW_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "tw_protocol.h"

/* What one stream sends, as the Info document declares it. */
struct tw_stream_config {
	uint8_t id;                   /* 0..7, the id frames carry */
	const char *kind;             /* "emg" or "acc" */
	uint32_t fs_hz;               /* whole samples per second on the sensor clock, <= 16384 */
	uint8_t n_channels;
	const char *const *channels;  /* n_channels names, in the order samples interleave */
	const char *unit;             /* the unit of scale: "uV", "g", ... */
	/*
	 * Physical units per int16 count, as the JSON number to print ("0.2", "0.000122"). Text,
	 * because the shortest round-trip printing of a double is not something firmware needs.
	 */
	const char *scale;
	/* A sample at or beyond these counts is on a rail: its frame carries CLIPPED. */
	int16_t clip_low;
	int16_t clip_high;
};

struct tw_device_config {
	const char *firmware; /* "fw" */
	const char *hardware; /* "hw" */
	const char *site;     /* informational; the host takes the site from its own config */
};

enum tw_info_error {
	TW_INFO_OK = 0,
	TW_INFO_TOO_LONG = -1,  /* more than 512 bytes */
	TW_INFO_NOT_ASCII = -2, /* a text field has a byte >= 0x80: the firmware's Info is ASCII */
	TW_INFO_BAD_STREAM = -3 /* id > 7, fs 0 or > tick_hz / 2, no channels, or no scale */
};

/*
 * Writes the document into out (TW_MAX_ATTRIBUTE_BYTES bytes) and its length into *length.
 * Returns TW_INFO_OK or a tw_info_error.
 */
int tw_info_build(uint8_t out[TW_MAX_ATTRIBUTE_BYTES], size_t *length,
		  const struct tw_device_config *device, const struct tw_stream_config *streams,
		  unsigned n_streams);

/* CRC-32 as zlib.crc32 computes it (IEEE 802.3, reflected, init and final xor 0xFFFFFFFF). */
uint32_t tw_crc32(const uint8_t *data, size_t length);

#endif /* TW_INFO_H */
