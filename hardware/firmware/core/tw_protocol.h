/*
 * The TwitchWatch GATT profile, version 1, byte by byte (hardware/README.md section 2).
 *
 * Portable C99, no Zephyr: the host tests compile this with the system C compiler and compare
 * every byte with the Python codec (edge/drivers/diy/protocol.py), which is the source of truth.
 * All multi-byte integers on the wire are little-endian, written byte by byte so the code does
 * not depend on the host's byte order.
 */
#ifndef TW_PROTOCOL_H
#define TW_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_PROTOCOL_VERSION 1u
/* Sensor clock: a 32.768 kHz counter sent as a u32 (wraps every ~36.4 h). */
#define TW_TICK_HZ 32768u
/* Bluetooth SIG "reserved for testing" company id, in the advertised manufacturer data. */
#define TW_COMPANY_ID 0xFFFFu

#define TW_FRAME_HEADER_BYTES 10u
#define TW_FRAME_TYPE_RAW_INT16 0x0u
#define TW_MAX_SAMPLES_PER_FRAME 255u /* n is a u8 */
#define TW_MAX_ATTRIBUTE_BYTES 512u   /* an attribute value is at most 512 bytes */
#define TW_ATT_NOTIFY_OVERHEAD 3u     /* ATT opcode + handle */
#define TW_MAX_STREAMS 8u             /* stream ids 0..7 */

#define TW_RESPONSE_CODE 0xF0u
#define TW_RESPONSE_HEADER_BYTES 4u
#define TW_GET_INFO_RESULT_BYTES 7u   /* <BHI: version, info length, CRC-32 */
#define TW_SET_TIME_ARGS_BYTES 8u     /* <Q: host UTC, us since the Unix epoch */
#define TW_SET_TIME_RESULT_BYTES 4u   /* <I: the tick at which SET_TIME arrived */
#define TW_STATUS_REPORT_BYTES 15u    /* <BBBIII, fits the 20-byte payload at MTU 23 */
#define TW_ADVERT_BYTES 5u            /* company id u16 + <BBB */
/* The longest control point response: header + GET_STATUS payload. */
#define TW_MAX_RESPONSE_BYTES (TW_RESPONSE_HEADER_BYTES + TW_STATUS_REPORT_BYTES)

enum tw_opcode {
	TW_OP_GET_INFO = 0x01,
	TW_OP_START = 0x02,
	TW_OP_STOP = 0x03,
	TW_OP_SET_TIME = 0x04,
	TW_OP_GET_STATUS = 0x05,
};

enum tw_status {
	TW_STATUS_OK = 0x00,
	TW_STATUS_UNKNOWN_OPCODE = 0x01,
	TW_STATUS_INVALID_LENGTH = 0x02,
	TW_STATUS_INVALID_PARAMETER = 0x03,
	TW_STATUS_INVALID_STATE = 0x04, /* defined by the profile; never sent */
};

enum tw_frame_flag {
	TW_FLAG_OVERFLOW = 0x01,    /* the ring buffer dropped samples just before this frame */
	TW_FLAG_CLIPPED = 0x02,     /* a sample in the frame hit the ADC or int16 rail */
	TW_FLAG_LEAD_OFF = 0x04,    /* an electrode lost contact (the MyoWare cannot tell) */
	TW_FLAG_TIME_RESYNC = 0x08, /* the tick counter restarted or jumped */
};

/*
 * The 128-bit UUIDs share one base, 1b83xxxx-f957-4c6f-a1a6-aff7562f8ef0. This initializer list
 * is the UUID in the little-endian byte order BLE stacks store and advertise (Zephyr's
 * BT_UUID_INIT_128 takes exactly this).
 */
#define TW_UUID_LE(short_id)                                                                   \
	0xf0, 0x8e, 0x2f, 0x56, 0xf7, 0xaf, 0xa6, 0xa1, 0x6f, 0x4c, 0x57, 0xf9,                \
		(uint8_t)((short_id) & 0xFFu), (uint8_t)(((short_id) >> 8) & 0xFFu), 0x83, 0x1b
#define TW_SERVICE_ID 0x0001u
#define TW_CONTROL_POINT_ID 0x0002u
#define TW_DATA_ID 0x0003u
#define TW_INFO_ID 0x0004u

void tw_put_u16le(uint8_t *out, uint16_t value);
void tw_put_u32le(uint8_t *out, uint32_t value);
uint64_t tw_get_u64le(const uint8_t *in);

/*
 * How many samples of n_channels int16 fit in one notification at ATT MTU mtu, capped at 255
 * (n is a u8) and by the 512-byte attribute limit. 0 means not even one sample fits.
 */
unsigned tw_max_samples_per_frame(unsigned mtu, unsigned n_channels);

/* The 10-byte frame header: ver|type, stream, seq u16, ticks u32 (of the first sample), n, flags. */
void tw_encode_frame_header(uint8_t out[TW_FRAME_HEADER_BYTES], uint8_t stream_id, uint16_t seq,
			    uint32_t ticks, uint8_t n, uint8_t flags);

/*
 * One data frame: the 10-byte header, then n x n_channels int16 samples, sample-major.
 * Returns the frame's length, or 0 when n is not 1..255, n_channels is 0, or cap is too small.
 */
size_t tw_encode_frame(uint8_t *out, size_t cap, uint8_t stream_id, uint16_t seq, uint32_t ticks,
		       const int16_t *samples, unsigned n, unsigned n_channels, uint8_t flags);

/* The tick of sample index of a stream at fs_hz: floor(index * 32768 / fs_hz) mod 2^32. */
uint32_t tw_ticks_of_sample(uint64_t index, uint32_t fs_hz);

/* How many samples of a stream at fs_hz have been taken by tick ticks_now (indices 0..n-1). */
uint64_t tw_samples_due(uint32_t ticks_now, uint32_t fs_hz);

/* A control point response; returns its length, or 0 when cap is too small. */
size_t tw_encode_response(uint8_t *out, size_t cap, uint8_t opcode, uint8_t token, uint8_t status,
			  const uint8_t *payload, size_t payload_len);

/* Advertised manufacturer data: company id, protocol version, battery %, flags (bit 0 streaming). */
void tw_encode_advert(uint8_t out[TW_ADVERT_BYTES], uint8_t battery_pct, bool streaming);

/* The advertised names (section 2.8): "TW-" + the serial's last 4 characters, which fits the
 * advertising packet, and "TW-XXXX-<site>" for the scan response, left_/right_ shortened to
 * l_/r_. The short name is a prefix of the complete one, as the Core Spec Supplement asks. */
#define TW_SHORT_NAME_BYTES 8u     /* "TW-XXXX" and its NUL */
#define TW_COMPLETE_NAME_BYTES 30u /* 29 characters fill the scan response's 31 bytes */

/* Returns false when the serial has fewer than 4 characters or the complete name is too long. */
bool tw_advert_names(const char *serial, const char *site, char short_name[TW_SHORT_NAME_BYTES],
		     char complete_name[TW_COMPLETE_NAME_BYTES]);

#endif /* TW_PROTOCOL_H */
