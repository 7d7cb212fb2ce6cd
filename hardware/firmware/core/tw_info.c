/* The Info document and its CRC-32 (see tw_info.h). */
#include "tw_info.h"

#include <stdio.h>
#include <string.h>

/* A bounded writer: every append checks the room left, so an overlong document is an error. */
struct writer {
	uint8_t *out;
	size_t used;
	int error;
};

static void put_raw(struct writer *w, const char *text)
{
	size_t n = strlen(text);
	if (w->error != TW_INFO_OK) {
		return;
	}
	if (w->used + n > TW_MAX_ATTRIBUTE_BYTES) {
		w->error = TW_INFO_TOO_LONG;
		return;
	}
	memcpy(&w->out[w->used], text, n);
	w->used += n;
}

/* A JSON string as Python's json.dumps writes it (ensure_ascii): \" \\ \n \r \t \b \f, and
 * \u00xx for every other byte outside ' '..'~' (the control characters and DEL). */
static void put_string(struct writer *w, const char *text)
{
	char escaped[8];
	put_raw(w, "\"");
	for (const unsigned char *c = (const unsigned char *)text; *c != 0u; c++) {
		if (*c >= 0x80u) {
			w->error = w->error != TW_INFO_OK ? w->error : TW_INFO_NOT_ASCII;
			return;
		}
		switch (*c) {
		case '"': put_raw(w, "\\\""); break;
		case '\\': put_raw(w, "\\\\"); break;
		case '\n': put_raw(w, "\\n"); break;
		case '\r': put_raw(w, "\\r"); break;
		case '\t': put_raw(w, "\\t"); break;
		case '\b': put_raw(w, "\\b"); break;
		case '\f': put_raw(w, "\\f"); break;
		default:
			if (*c < 0x20u || *c == 0x7Fu) {
				(void)snprintf(escaped, sizeof escaped, "\\u%04x", *c);
			} else {
				escaped[0] = (char)*c;
				escaped[1] = '\0';
			}
			put_raw(w, escaped);
		}
	}
	put_raw(w, "\"");
}

static void put_unsigned(struct writer *w, unsigned long value, const char *suffix)
{
	char digits[24];
	(void)snprintf(digits, sizeof digits, "%lu%s", value, suffix);
	put_raw(w, digits);
}

static int check_stream(const struct tw_stream_config *s)
{
	bool bad = s->id >= TW_MAX_STREAMS || s->fs_hz == 0u || s->fs_hz > TW_TICK_HZ / 2u ||
		   s->n_channels == 0u || s->scale == NULL || s->scale[0] == '\0';
	return bad ? TW_INFO_BAD_STREAM : TW_INFO_OK;
}

int tw_info_build(uint8_t out[TW_MAX_ATTRIBUTE_BYTES], size_t *length,
		  const struct tw_device_config *device, const struct tw_stream_config *streams,
		  unsigned n_streams)
{
	struct writer w = {out, 0, TW_INFO_OK};

	put_raw(&w, "{\"proto\":");
	put_unsigned(&w, TW_PROTOCOL_VERSION, ",\"fw\":");
	put_string(&w, device->firmware);
	put_raw(&w, ",\"hw\":");
	put_string(&w, device->hardware);
	put_raw(&w, ",\"site\":");
	put_string(&w, device->site);
	put_raw(&w, ",\"tick_hz\":");
	put_unsigned(&w, TW_TICK_HZ, ",\"streams\":[");
	for (unsigned i = 0; i < n_streams; i++) {
		const struct tw_stream_config *s = &streams[i];
		if (check_stream(s) != TW_INFO_OK) {
			return TW_INFO_BAD_STREAM;
		}
		put_raw(&w, i == 0u ? "{\"id\":" : ",{\"id\":");
		put_unsigned(&w, s->id, ",\"kind\":");
		put_string(&w, s->kind);
		/* Python writes the float fs of a whole rate as "2000.0". */
		put_raw(&w, ",\"fs\":");
		put_unsigned(&w, s->fs_hz, ".0,\"ch\":[");
		for (unsigned c = 0; c < s->n_channels; c++) {
			if (c > 0u) {
				put_raw(&w, ",");
			}
			put_string(&w, s->channels[c]);
		}
		put_raw(&w, "],\"unit\":");
		put_string(&w, s->unit);
		put_raw(&w, ",\"scale\":");
		put_raw(&w, s->scale);
		put_raw(&w, "}");
	}
	put_raw(&w, "]}");
	*length = w.used;
	return w.error;
}

uint32_t tw_crc32(const uint8_t *data, size_t length)
{
	/* Bitwise, no table: the document is checksummed once at boot. */
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < length; i++) {
		crc ^= data[i];
		for (unsigned bit = 0; bit < 8u; bit++) {
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
		}
	}
	return crc ^ 0xFFFFFFFFu;
}
