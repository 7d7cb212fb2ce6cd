/* The TwitchWatch GATT profile's byte layouts (see tw_protocol.h). */
#include "tw_protocol.h"

#include <stdio.h>
#include <string.h>

void tw_put_u16le(uint8_t *out, uint16_t value)
{
	out[0] = (uint8_t)(value & 0xFFu);
	out[1] = (uint8_t)(value >> 8);
}

void tw_put_u32le(uint8_t *out, uint32_t value)
{
	for (unsigned i = 0; i < 4u; i++) {
		out[i] = (uint8_t)((value >> (8u * i)) & 0xFFu);
	}
}

uint64_t tw_get_u64le(const uint8_t *in)
{
	uint64_t value = 0;
	for (unsigned i = 8; i-- > 0;) {
		value = (value << 8) | in[i];
	}
	return value;
}

unsigned tw_max_samples_per_frame(unsigned mtu, unsigned n_channels)
{
	if (n_channels == 0u || mtu < TW_ATT_NOTIFY_OVERHEAD + TW_FRAME_HEADER_BYTES) {
		return 0;
	}
	unsigned room = mtu - TW_ATT_NOTIFY_OVERHEAD;
	if (room > TW_MAX_ATTRIBUTE_BYTES) {
		room = TW_MAX_ATTRIBUTE_BYTES; /* whatever the MTU (Android asks for 517) */
	}
	unsigned n = (room - TW_FRAME_HEADER_BYTES) / (2u * n_channels);
	return n > TW_MAX_SAMPLES_PER_FRAME ? TW_MAX_SAMPLES_PER_FRAME : n;
}

void tw_encode_frame_header(uint8_t out[TW_FRAME_HEADER_BYTES], uint8_t stream_id, uint16_t seq,
			    uint32_t ticks, uint8_t n, uint8_t flags)
{
	out[0] = (uint8_t)((TW_PROTOCOL_VERSION << 4) | TW_FRAME_TYPE_RAW_INT16);
	out[1] = stream_id;
	tw_put_u16le(&out[2], seq);
	tw_put_u32le(&out[4], ticks);
	out[8] = n;
	out[9] = flags;
}

size_t tw_encode_frame(uint8_t *out, size_t cap, uint8_t stream_id, uint16_t seq, uint32_t ticks,
		       const int16_t *samples, unsigned n, unsigned n_channels, uint8_t flags)
{
	if (n < 1u || n > TW_MAX_SAMPLES_PER_FRAME || n_channels == 0u) {
		return 0;
	}
	size_t n_values = (size_t)n * n_channels;
	size_t length = TW_FRAME_HEADER_BYTES + 2u * n_values;
	if (length > cap) {
		return 0;
	}
	tw_encode_frame_header(out, stream_id, seq, ticks, (uint8_t)n, flags);
	for (size_t i = 0; i < n_values; i++) {
		tw_put_u16le(&out[TW_FRAME_HEADER_BYTES + 2u * i], (uint16_t)samples[i]);
	}
	return length;
}

uint32_t tw_ticks_of_sample(uint64_t index, uint32_t fs_hz)
{
	/* Exact integer floor; index * 32768 stays below 2^64 for 17 years at 16 kHz. */
	return (uint32_t)((index * TW_TICK_HZ) / fs_hz);
}

uint64_t tw_samples_due(uint32_t ticks_now, uint32_t fs_hz)
{
	return ((uint64_t)ticks_now * fs_hz) / TW_TICK_HZ + 1u;
}

size_t tw_encode_response(uint8_t *out, size_t cap, uint8_t opcode, uint8_t token, uint8_t status,
			  const uint8_t *payload, size_t payload_len)
{
	if (cap < TW_RESPONSE_HEADER_BYTES + payload_len) {
		return 0;
	}
	out[0] = TW_RESPONSE_CODE;
	out[1] = opcode;
	out[2] = token;
	out[3] = status;
	if (payload_len > 0u) {
		memcpy(&out[TW_RESPONSE_HEADER_BYTES], payload, payload_len);
	}
	return TW_RESPONSE_HEADER_BYTES + payload_len;
}

void tw_encode_advert(uint8_t out[TW_ADVERT_BYTES], uint8_t battery_pct, bool streaming)
{
	tw_put_u16le(out, TW_COMPANY_ID);
	out[2] = TW_PROTOCOL_VERSION;
	out[3] = battery_pct;
	out[4] = streaming ? 1u : 0u;
}

bool tw_advert_names(const char *serial, const char *site, char short_name[TW_SHORT_NAME_BYTES],
		     char complete_name[TW_COMPLETE_NAME_BYTES])
{
	static const char *const sides[][2] = {{"left_", "l_"}, {"right_", "r_"}};
	size_t serial_len = strlen(serial);
	if (serial_len < 4u) {
		return false;
	}
	(void)snprintf(short_name, TW_SHORT_NAME_BYTES, "TW-%s", &serial[serial_len - 4u]);
	const char *prefix = "";
	const char *rest = site;
	for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
		size_t n = strlen(sides[i][0]);
		if (strncmp(site, sides[i][0], n) == 0) {
			prefix = sides[i][1];
			rest = &site[n];
		}
	}
	int length = snprintf(complete_name, TW_COMPLETE_NAME_BYTES, "%s-%s%s", short_name, prefix,
			      rest);
	return length > 0 && (size_t)length < TW_COMPLETE_NAME_BYTES;
}
