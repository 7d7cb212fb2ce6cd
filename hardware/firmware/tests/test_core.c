/*
 * Unit tests of the firmware core on the host, against the golden vectors written down in
 * hardware/README.md (sections 2.2 to 2.8). They are typed in here by hand, not generated, so a
 * bug the C core shared with the Python codec could not hide. tests/test_firmware_core.py
 * builds and runs this, then compares the core with the Python codec on generated cases.
 *
 * Prints one line per failed check and ends with "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "tw_battery.h"
#include "tw_device.h"
#include "tw_info.h"
#include "tw_protocol.h"
#include "tw_stream.h"

static int passed, failed;

#define CHECK(condition)                                                                       \
	do {                                                                                   \
		if (condition) {                                                               \
			passed++;                                                              \
		} else {                                                                       \
			failed++;                                                              \
			printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #condition);        \
		}                                                                              \
	} while (0)

/* Does data[0, n) spell the hex string expected? */
static int hex_equals(const uint8_t *data, size_t n, const char *expected)
{
	char actual[2 * (TW_MAX_ATTRIBUTE_BYTES + 64) + 1];
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(&actual[2 * i], 3, "%02x", data[i]);
	}
	actual[2 * n] = '\0';
	if (strcmp(actual, expected) != 0) {
		printf("  got      %s\n  expected %s\n", actual, expected);
		return 0;
	}
	return 1;
}

/* The section 2.5 example sensor: left_calf, EMG 2000 Hz at 0.2 uV, ACC 416 Hz at 0.122 mg. */
static const char *const emg_channels[] = {"emg"};
static const char *const acc_channels[] = {"x", "y", "z"};
static const struct tw_stream_config example_streams[] = {
	{0, "emg", 2000, 1, emg_channels, "uV", "0.2", INT16_MIN, INT16_MAX},
	{1, "acc", 416, 3, acc_channels, "g", "0.000122", INT16_MIN, INT16_MAX},
};
static const struct tw_device_config example_device = {"1.0.0", "twitchwatch-sim", "left_calf"};
static const char example_info[] =
	"{\"proto\":1,\"fw\":\"1.0.0\",\"hw\":\"twitchwatch-sim\",\"site\":\"left_calf\","
	"\"tick_hz\":32768,\"streams\":[{\"id\":0,\"kind\":\"emg\",\"fs\":2000.0,\"ch\":[\"emg\"],"
	"\"unit\":\"uV\",\"scale\":0.2},{\"id\":1,\"kind\":\"acc\",\"fs\":416.0,"
	"\"ch\":[\"x\",\"y\",\"z\"],\"unit\":\"g\",\"scale\":0.000122}]}";

static int16_t emg_ring[4000];
static int16_t acc_ring[832 * 3];

static void make_example(struct tw_device *d, struct tw_stream streams[2])
{
	tw_stream_init(&streams[0], &example_streams[0], emg_ring, 4000);
	tw_stream_init(&streams[1], &example_streams[1], acc_ring, 832);
	CHECK(tw_device_init(d, &example_device, streams, 2) == TW_INFO_OK);
}

static size_t request(struct tw_device *d, const uint8_t *bytes, size_t n, uint32_t ticks,
		      uint8_t *response)
{
	return tw_device_handle_request(d, bytes, n, ticks, response);
}

static void test_golden_frames(void)
{
	uint8_t out[64];
	const int16_t emg[] = {100, -2, 32767};
	size_t n = tw_encode_frame(out, sizeof out, 0, 0x0102, 0x1000, emg, 3, 1, TW_FLAG_CLIPPED);
	CHECK(hex_equals(out, n, "100002010010000003026400feffff7f")); /* section 2.4 */
	const int16_t acc[] = {1, -1, 8197, 2, -2, 8196};
	n = tw_encode_frame(out, sizeof out, 1, 5, 78, acc, 2, 3, 0);
	CHECK(hex_equals(out, n, "100105004e00000002000100ffff05200200feff0420"));
	CHECK(tw_encode_frame(out, sizeof out, 0, 0, 0, emg, 0, 1, 0) == 0); /* n = 0 */
	CHECK(tw_encode_frame(out, 12, 0, 0, 0, emg, 3, 1, 0) == 0);         /* no room */
}

static void test_frame_size_table(void)
{
	CHECK(tw_max_samples_per_frame(23, 1) == 5 && tw_max_samples_per_frame(23, 3) == 1);
	CHECK(tw_max_samples_per_frame(185, 1) == 86 && tw_max_samples_per_frame(185, 3) == 28);
	CHECK(tw_max_samples_per_frame(247, 1) == 117 && tw_max_samples_per_frame(247, 3) == 39);
	CHECK(tw_max_samples_per_frame(517, 1) == 251); /* the 512-byte attribute limit */
	CHECK(tw_max_samples_per_frame(23, 5) == 1 && tw_max_samples_per_frame(23, 6) == 0);
	CHECK(tw_max_samples_per_frame(14, 1) == 0);
}

static void test_ticks_follow_the_sample_counter(void)
{
	const uint64_t emg_index[] = {0, 1, 2, 3, 117};
	const uint32_t emg_ticks[] = {0, 16, 32, 49, 1916};
	for (unsigned i = 0; i < 5; i++) {
		CHECK(tw_ticks_of_sample(emg_index[i], 2000) == emg_ticks[i]);
	}
	CHECK(tw_ticks_of_sample(1, 416) == 78 && tw_ticks_of_sample(40, 416) == 3150);
	CHECK(tw_ticks_of_sample(416, 416) == 32768);
	CHECK(tw_ticks_of_sample((uint64_t)2000 * 131072, 2000) == 0); /* wraps after 2^32 ticks */
	CHECK(tw_samples_due(0, 2000) == 1 && tw_samples_due(16, 2000) == 1);
	CHECK(tw_samples_due(17, 2000) == 2);
}

static void test_info_document(void)
{
	struct tw_device d;
	struct tw_stream streams[2];
	make_example(&d, streams);
	CHECK(d.info_length == 245 && strlen(example_info) == 245);
	CHECK(memcmp(d.info, example_info, d.info_length) == 0);
	CHECK(d.info_crc32 == 0x2e4f04bau);
	CHECK(tw_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u); /* the CRC-32 check */

	uint8_t out[TW_MAX_ATTRIBUTE_BYTES];
	size_t n;
	const struct tw_device_config quoted = {"a\"b\\c\n\x01", "hw", "site"};
	CHECK(tw_info_build(out, &n, &quoted, example_streams, 0) == TW_INFO_OK);
	CHECK(memcmp(out, "{\"proto\":1,\"fw\":\"a\\\"b\\\\c\\n\\u0001\"", 33) == 0);
	const struct tw_device_config accented = {"1.0", "hw", "c\xc3\xb4t\xc3\xa9"};
	CHECK(tw_info_build(out, &n, &accented, example_streams, 2) == TW_INFO_NOT_ASCII);
	static char long_site[600];
	memset(long_site, 'x', sizeof long_site - 1);
	const struct tw_device_config too_long = {"1.0", "hw", long_site};
	CHECK(tw_info_build(out, &n, &too_long, example_streams, 2) == TW_INFO_TOO_LONG);
	struct tw_stream_config fast = example_streams[0];
	fast.fs_hz = 16385; /* above tick_hz / 2: the host could not recover sample indices */
	CHECK(tw_info_build(out, &n, &example_device, &fast, 1) == TW_INFO_BAD_STREAM);
}

static void test_control_point_worked_examples(void)
{
	struct tw_device d;
	struct tw_stream streams[2];
	uint8_t r[TW_MAX_RESPONSE_BYTES];
	make_example(&d, streams);

	const uint8_t get_info[] = {0x01, 0x01};
	CHECK(hex_equals(r, request(&d, get_info, 2, 0, r), "f001010001f500ba044f2e"));
	const uint8_t set_time[] = {0x04, 0x02, 0x00, 0x40, 0x20, 0x46, 0x48, 0x47, 0x06, 0x00};
	CHECK(hex_equals(r, request(&d, set_time, 10, 0x12345678u, r), "f004020078563412"));
	CHECK(d.host_epoch_us == 1767225600000000u);
	const uint8_t start[] = {0x02, 0x07, 0x03};
	CHECK(hex_equals(r, request(&d, start, 3, 0, r), "f0020700"));
	CHECK(tw_device_streaming_mask(&d) == 0x03);
	const uint8_t stop[] = {0x03, 0x04, 0x03};
	CHECK(hex_equals(r, request(&d, stop, 3, 0, r), "f0030400"));
	CHECK(!tw_device_is_streaming(&d));
	const uint8_t get_status[] = {0x05, 0x03};
	d.streams[0].streaming = d.streams[1].streaming = true; /* mask 0x03, rings empty */
	CHECK(hex_equals(r, request(&d, get_status, 2, 0x1000, r),
			 "f0050300640300000000000000000000100000"));
	const uint8_t no_stream_2[] = {0x02, 0x08, 0x04};
	CHECK(hex_equals(r, request(&d, no_stream_2, 3, 0, r), "f0020803"));
	const uint8_t no_mask[] = {0x02, 0x09};
	CHECK(hex_equals(r, request(&d, no_mask, 2, 0, r), "f0020902"));
	const uint8_t unknown[] = {0x09, 0x0a};
	CHECK(hex_equals(r, request(&d, unknown, 2, 0, r), "f0090a01"));
	const uint8_t one_byte[] = {0x02};
	CHECK(hex_equals(r, request(&d, one_byte, 1, 0, r), "f0020002"));
	CHECK(hex_equals(r, request(&d, one_byte, 0, 0, r), "f0000002"));
}

static void test_advertising_bytes(void)
{
	uint8_t out[TW_ADVERT_BYTES];
	tw_encode_advert(out, 100, false);
	CHECK(hex_equals(out, sizeof out, "ffff016400")); /* section 2.8 */
	const uint8_t service[16] = {TW_UUID_LE(TW_SERVICE_ID)};
	CHECK(hex_equals(service, 16, "f08e2f56f7afa6a16f4c57f90100831b"));
}

/* Push count EMG samples with values start, start+1, ... */
static void push_ramp(struct tw_stream *s, int start, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int16_t value = (int16_t)(start + (int)i);
		tw_stream_push(s, &value, 1);
	}
}

static void test_framing_ring_and_overflow(void)
{
	struct tw_device d;
	struct tw_stream streams[2];
	uint8_t r[TW_MAX_RESPONSE_BYTES];
	uint8_t frame[TW_MAX_ATTRIBUTE_BYTES];
	make_example(&d, streams);
	const uint8_t start_emg[] = {0x02, 0x01, 0x01};
	(void)request(&d, start_emg, 3, 160, r); /* by tick 160 samples 0..9 were taken */
	CHECK(streams[0].first_index == 10);

	push_ramp(&streams[0], 0, 99); /* below 50 ms and below n_max at MTU 247: nothing due */
	CHECK(tw_device_next_frame(&d, 247, frame, sizeof frame) == 0);
	push_ramp(&streams[0], 99, 1); /* 100 samples = 50 ms: a partial frame goes out */
	size_t n = tw_device_next_frame(&d, 247, frame, sizeof frame);
	CHECK(n == 10 + 200 && frame[8] == 100 && frame[9] == 0);
	CHECK(frame[4] == 163 && frame[5] == 0); /* ticks of sample 10 = floor(10 x 16.384) */
	/* Not committed (the stack's queue was full): the same frame is built again. */
	uint8_t again[TW_MAX_ATTRIBUTE_BYTES];
	CHECK(tw_device_next_frame(&d, 247, again, sizeof again) == n);
	CHECK(memcmp(frame, again, n) == 0);
	tw_device_commit(&d);
	CHECK(d.frames_sent == 1 && streams[0].seq == 1 && streams[0].count == 0);

	/* A stall longer than the ring: 4000 + 500 samples, the oldest 500 overwritten. */
	push_ramp(&streams[0], 1000, 4500);
	n = tw_device_next_frame(&d, 247, frame, sizeof frame);
	CHECK(frame[8] == 117 && (frame[9] & TW_FLAG_OVERFLOW) != 0);
	CHECK(frame[2] == 1 && frame[3] == 0);                 /* seq stays continuous */
	CHECK(frame[10] == (uint8_t)(1500 & 0xFF));            /* first kept sample is 1500 */
	uint32_t ticks = (uint32_t)frame[4] | (uint32_t)frame[5] << 8 | (uint32_t)frame[6] << 16;
	CHECK(ticks == tw_ticks_of_sample(10 + 100 + 500, 2000)); /* the gap shows in ticks */
	tw_device_commit(&d);
	n = tw_device_next_frame(&d, 247, frame, sizeof frame);
	CHECK((frame[9] & TW_FLAG_OVERFLOW) == 0 && d.frames_overflowed == 1);
	tw_device_commit(&d);

	/* GET_STATUS reports the fullest ring: 4000 - 234 samples left = 94 %. */
	const uint8_t get_status[] = {0x05, 0x0b};
	CHECK(request(&d, get_status, 2, 0, r) == 19 && r[6] == 94);

	/* The link drops: every stream stops, pushes are ignored, nothing is framed. */
	tw_device_stop_all(&d);
	push_ramp(&streams[0], 0, 300);
	CHECK(tw_device_next_frame(&d, 247, frame, sizeof frame) == 0);
}

static void test_clipped_skip_and_seq_wrap(void)
{
	struct tw_stream s;
	struct tw_stream_config emg = example_streams[0];
	uint8_t frame[TW_MAX_ATTRIBUTE_BYTES];
	unsigned n = 0;
	emg.clip_low = -2048; /* a 12-bit ADC's rails, centred */
	emg.clip_high = 2047;
	tw_stream_init(&s, &emg, emg_ring, 4000);
	tw_stream_start(&s, 0);
	s.seq = 0xFFFF;
	push_ramp(&s, 2000, 117); /* reaches 2116: over the rail */
	CHECK(tw_stream_build_frame(&s, 247, frame, sizeof frame, &n) > 0);
	CHECK(n == 117 && (frame[9] & TW_FLAG_CLIPPED) != 0);
	tw_stream_commit(&s, n);
	CHECK(s.seq == 0);                /* wraps 0xFFFF -> 0x0000 */
	push_ramp(&s, 0, 50);
	tw_stream_skip(&s, 20);           /* a lost DMA buffer: kept samples go too, and OVERFLOW */
	push_ramp(&s, 0, 117);
	CHECK(tw_stream_build_frame(&s, 247, frame, sizeof frame, &n) > 0);
	CHECK((frame[9] & TW_FLAG_OVERFLOW) != 0 && (frame[9] & TW_FLAG_CLIPPED) == 0);
	CHECK(s.first_index == 1 + 117 + 50 + 20);
}

static void test_resync_after_an_unknown_loss(void)
{
	struct tw_stream s;
	uint8_t frame[TW_MAX_ATTRIBUTE_BYTES];
	unsigned n = 0;
	tw_stream_init(&s, &example_streams[0], emg_ring, 4000);
	tw_stream_start(&s, 0);
	push_ramp(&s, 0, 10);
	/* At tick 32768 (sample 2000 due) 117 samples wait in the FIFO: they are 1884..2000. */
	tw_stream_resync(&s, 32768, 117);
	CHECK(s.first_index == 2001 - 117 && s.count == 0);
	push_ramp(&s, 0, 117);
	CHECK(tw_stream_build_frame(&s, 247, frame, sizeof frame, &n) > 0);
	CHECK((frame[9] & TW_FLAG_OVERFLOW) != 0);
	/* An estimate before what was kept never moves ticks backwards. */
	tw_stream_resync(&s, 0, 500);
	CHECK(s.first_index == 1884 + 117);
}

static void test_advertised_names(void)
{
	char short_name[TW_SHORT_NAME_BYTES];
	char complete[TW_COMPLETE_NAME_BYTES];
	CHECK(tw_advert_names("SIM0001", "left_calf", short_name, complete));
	CHECK(strcmp(short_name, "TW-0001") == 0 && strcmp(complete, "TW-0001-l_calf") == 0);
	CHECK(tw_advert_names("A1B2", "right_upper_arm", short_name, complete));
	CHECK(strcmp(complete, "TW-A1B2-r_upper_arm") == 0);
	CHECK(!tw_advert_names("AB", "chest", short_name, complete));
	CHECK(!tw_advert_names("0001", "a_site_name_much_too_long_to_fit", short_name, complete));
}

static void test_battery_curve(void)
{
	CHECK(tw_battery_pct(4300) == 100 && tw_battery_pct(4200) == 100);
	CHECK(tw_battery_pct(3840) == 50 && tw_battery_pct(3000) == 0);
	unsigned previous = 0;
	int monotonic = 1;
	for (uint32_t mv = 3000; mv <= 4300; mv++) {
		unsigned pct = tw_battery_pct(mv);
		monotonic &= pct >= previous && pct <= 100;
		previous = pct;
	}
	CHECK(monotonic);
}

int main(void)
{
	test_golden_frames();
	test_frame_size_table();
	test_ticks_follow_the_sample_counter();
	test_info_document();
	test_control_point_worked_examples();
	test_advertising_bytes();
	test_framing_ring_and_overflow();
	test_clipped_skip_and_seq_wrap();
	test_resync_after_an_unknown_loss();
	test_advertised_names();
	test_battery_curve();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
