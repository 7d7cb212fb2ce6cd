/*
 * Host harness: drives the firmware core from commands on stdin and prints what it produces,
 * one line per command, so tests/test_firmware_core.py can compare every byte with the Python
 * codec and the reference firmware (firmware_sim/diy/firmware.py) on the same inputs.
 *
 * Binary and text arguments travel as hex ("-" is empty). Commands:
 *   maxn MTU NCH                       -> samples per frame (0: not one fits)
 *   ticks INDEX FS | due TICKS FS      -> tw_ticks_of_sample | tw_samples_due
 *   frame SID SEQ TICKS NCH FLAGS HEX  -> frame hex, or "error"
 *   response OP TOKEN STATUS HEX       -> response hex
 *   advert BATTERY STREAMING | uuid ID | crc32 HEX | battery MV | names SERIAL SITE (hex)
 *   info FW HW SITE N STREAM...        -> "ok" + document hex, or "error CODE"
 *        STREAM = ID KIND FS NCH CH... UNIT SCALE (texts in hex)
 *   device RING_S FW HW SITE N STREAM... -> "ok" or "error CODE": a device to drive with
 *   write TICKS HEX | push SID HEX | skip SID N | pump MTU | set_battery PCT | stop_all
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_battery.h"
#include "tw_device.h"
#include "tw_info.h"
#include "tw_protocol.h"
#include "tw_stream.h"

#define MAX_LINE 65536
#define MAX_TEXT 1024
#define MAX_CHANNELS 8

static char *next_token(void)
{
	return strtok(NULL, " \t\r\n");
}

static unsigned long long next_number(void)
{
	char *token = next_token();
	return token != NULL ? strtoull(token, NULL, 0) : 0u;
}

/* Decodes the next hex token into out; returns the byte count ("-" is empty). */
static size_t next_hex(uint8_t *out, size_t cap)
{
	char *token = next_token();
	size_t n = 0;
	if (token == NULL || strcmp(token, "-") == 0) {
		return 0;
	}
	for (; token[2 * n] != '\0' && token[2 * n + 1] != '\0' && n < cap; n++) {
		unsigned byte;
		(void)sscanf(&token[2 * n], "%2x", &byte);
		out[n] = (uint8_t)byte;
	}
	return n;
}

static char *next_text(char *out)
{
	size_t n = next_hex((uint8_t *)out, MAX_TEXT - 1u);
	out[n] = '\0';
	return out;
}

static void print_hex(const uint8_t *data, size_t n)
{
	if (n == 0u) {
		fputs("-", stdout);
	}
	for (size_t i = 0; i < n; i++) {
		printf("%02x", data[i]);
	}
}

/* Everything a parsed device or Info command owns; the streams point into it. */
struct parsed {
	char fw[MAX_TEXT], hw[MAX_TEXT], site[MAX_TEXT];
	struct tw_device_config device;
	unsigned n_streams;
	struct tw_stream_config configs[TW_MAX_STREAMS];
	char texts[TW_MAX_STREAMS][3 + MAX_CHANNELS][MAX_TEXT]; /* kind, unit, scale, channels */
	const char *channels[TW_MAX_STREAMS][MAX_CHANNELS];
};

static int parse_config(struct parsed *p)
{
	p->device.firmware = next_text(p->fw);
	p->device.hardware = next_text(p->hw);
	p->device.site = next_text(p->site);
	p->n_streams = (unsigned)next_number();
	if (p->n_streams > TW_MAX_STREAMS) {
		return -1;
	}
	for (unsigned i = 0; i < p->n_streams; i++) {
		struct tw_stream_config *c = &p->configs[i];
		c->id = (uint8_t)next_number();
		c->kind = next_text(p->texts[i][0]);
		c->fs_hz = (uint32_t)next_number();
		c->n_channels = (uint8_t)next_number();
		if (c->n_channels > MAX_CHANNELS) {
			return -1;
		}
		for (unsigned ch = 0; ch < c->n_channels; ch++) {
			p->channels[i][ch] = next_text(p->texts[i][3 + ch]);
		}
		c->channels = p->channels[i];
		c->unit = next_text(p->texts[i][1]);
		c->scale = next_text(p->texts[i][2]);
		c->clip_low = INT16_MIN;
		c->clip_high = INT16_MAX;
	}
	return 0;
}

static struct parsed config;
static struct tw_device device;
static struct tw_stream streams[TW_MAX_STREAMS];
static int16_t *rings[TW_MAX_STREAMS];

static void make_device(void)
{
	unsigned ring_s = (unsigned)next_number();
	if (parse_config(&config) != 0) {
		puts("error parse");
		return;
	}
	for (unsigned i = 0; i < config.n_streams; i++) {
		uint32_t capacity = ring_s * config.configs[i].fs_hz;
		free(rings[i]);
		rings[i] = calloc((size_t)capacity * config.configs[i].n_channels, sizeof(int16_t));
		tw_stream_init(&streams[i], &config.configs[i], rings[i], capacity);
	}
	int error = tw_device_init(&device, &config.device, streams, config.n_streams);
	if (error != TW_INFO_OK) {
		printf("error %d\n", error);
	} else {
		puts("ok");
	}
}

static void run(char *command)
{
	static uint8_t bytes[MAX_LINE / 2];
	static int16_t samples[MAX_LINE / 4];
	uint8_t out[8192]; /* generated frames may exceed 512 bytes; the firmware's never do */

	if (strcmp(command, "maxn") == 0) {
		unsigned mtu = (unsigned)next_number();
		printf("%u\n", tw_max_samples_per_frame(mtu, (unsigned)next_number()));
	} else if (strcmp(command, "ticks") == 0) {
		unsigned long long index = next_number();
		printf("%lu\n", (unsigned long)tw_ticks_of_sample(index, (uint32_t)next_number()));
	} else if (strcmp(command, "due") == 0) {
		uint32_t ticks = (uint32_t)next_number();
		printf("%llu\n", (unsigned long long)tw_samples_due(ticks, (uint32_t)next_number()));
	} else if (strcmp(command, "frame") == 0) {
		uint8_t sid = (uint8_t)next_number();
		uint16_t seq = (uint16_t)next_number();
		uint32_t ticks = (uint32_t)next_number();
		unsigned n_ch = (unsigned)next_number();
		uint8_t flags = (uint8_t)next_number();
		size_t n_bytes = next_hex(bytes, sizeof bytes);
		for (size_t i = 0; i < n_bytes / 2u; i++) {
			samples[i] = (int16_t)(bytes[2 * i] | (bytes[2 * i + 1] << 8));
		}
		unsigned n = n_ch > 0u ? (unsigned)(n_bytes / 2u / n_ch) : 0u;
		size_t length = tw_encode_frame(out, sizeof out, sid, seq, ticks, samples, n, n_ch,
						flags);
		if (length == 0u) {
			puts("error");
		} else {
			print_hex(out, length);
			puts("");
		}
	} else if (strcmp(command, "response") == 0) {
		uint8_t op = (uint8_t)next_number();
		uint8_t token = (uint8_t)next_number();
		uint8_t status = (uint8_t)next_number();
		size_t n = next_hex(bytes, sizeof bytes);
		print_hex(out, tw_encode_response(out, sizeof out, op, token, status, bytes, n));
		puts("");
	} else if (strcmp(command, "advert") == 0) {
		uint8_t battery = (uint8_t)next_number();
		tw_encode_advert(out, battery, next_number() != 0u);
		print_hex(out, TW_ADVERT_BYTES);
		puts("");
	} else if (strcmp(command, "uuid") == 0) {
		unsigned id = (unsigned)next_number();
		const uint8_t uuid[16] = {TW_UUID_LE(id)};
		print_hex(uuid, sizeof uuid);
		puts("");
	} else if (strcmp(command, "crc32") == 0) {
		size_t n = next_hex(bytes, sizeof bytes);
		printf("%lu\n", (unsigned long)tw_crc32(bytes, n));
	} else if (strcmp(command, "names") == 0) {
		static char serial[MAX_TEXT], site[MAX_TEXT];
		char short_name[TW_SHORT_NAME_BYTES], complete[TW_COMPLETE_NAME_BYTES];
		(void)next_text(serial);
		(void)next_text(site);
		if (tw_advert_names(serial, site, short_name, complete)) {
			printf("%s %s\n", short_name, complete);
		} else {
			puts("error");
		}
	} else if (strcmp(command, "battery") == 0) {
		printf("%u\n", tw_battery_pct((uint32_t)next_number()));
	} else if (strcmp(command, "info") == 0) {
		static struct parsed p;
		size_t length = 0;
		int error = parse_config(&p) != 0 ? -99
			    : tw_info_build(out, &length, &p.device, p.configs, p.n_streams);
		if (error != TW_INFO_OK) {
			printf("error %d\n", error);
		} else {
			fputs("ok ", stdout);
			print_hex(out, length);
			puts("");
		}
	} else if (strcmp(command, "device") == 0) {
		make_device();
	} else if (strcmp(command, "write") == 0) {
		uint32_t ticks = (uint32_t)next_number();
		size_t n = next_hex(bytes, sizeof bytes);
		print_hex(out, tw_device_handle_request(&device, bytes, n, ticks, out));
		puts("");
	} else if (strcmp(command, "push") == 0) {
		unsigned sid = (unsigned)next_number();
		size_t n_bytes = next_hex(bytes, sizeof bytes);
		for (size_t i = 0; i < n_bytes / 2u; i++) {
			samples[i] = (int16_t)(bytes[2 * i] | (bytes[2 * i + 1] << 8));
		}
		unsigned n_ch = streams[sid].config->n_channels;
		tw_stream_push(&streams[sid], samples, (uint32_t)(n_bytes / 2u / n_ch));
		puts("ok");
	} else if (strcmp(command, "skip") == 0) {
		unsigned sid = (unsigned)next_number();
		tw_stream_skip(&streams[sid], (uint32_t)next_number());
		puts("ok");
	} else if (strcmp(command, "pump") == 0) {
		unsigned mtu = (unsigned)next_number();
		size_t length;
		int n_frames = 0;
		while ((length = tw_device_next_frame(&device, mtu, out, sizeof out)) > 0u) {
			fputs(n_frames++ > 0 ? " " : "", stdout);
			print_hex(out, length);
			tw_device_commit(&device);
		}
		puts(n_frames == 0 ? "-" : "");
	} else if (strcmp(command, "set_battery") == 0) {
		device.battery_pct = (uint8_t)next_number();
		puts("ok");
	} else if (strcmp(command, "stop_all") == 0) {
		tw_device_stop_all(&device);
		puts("ok");
	} else {
		printf("unknown command %s\n", command);
	}
}

int main(void)
{
	static char line[MAX_LINE];
	while (fgets(line, sizeof line, stdin) != NULL) {
		char *command = strtok(line, " \t\r\n");
		if (command != NULL) {
			run(command);
			fflush(stdout);
		}
	}
	for (unsigned i = 0; i < TW_MAX_STREAMS; i++) {
		free(rings[i]);
	}
	return 0;
}
