/*
 * TwitchWatch DIY sensor: boot, the connection's lifetime, and the pump that runs once per
 * connection interval on the system work queue (take what was sampled, send the frames due).
 */
#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/bluetooth/conn.h>
#include <zephyr/bluetooth/services/bas.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include "board.h"
#include "tw_battery.h"

LOG_MODULE_REGISTER(twitchwatch, LOG_LEVEL_INF);

BUILD_ASSERT(CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC == TW_TICK_HZ,
	     "the tick counter is the 32.768 kHz RTC that drives the system clock");

/* One BLE connection interval (the profile asks for 15-30 ms). */
#define PUMP_INTERVAL K_MSEC(15)
#define RING_S 2u /* >= 2 s per stream absorbs radio stalls (rule 4) */
/* While streaming, every EMG block also measures the battery; while idle, once a minute. */
#define IDLE_BATTERY_EVERY_PUMPS (60000u / 15u)

static const char *const emg_channels[] = {"emg"};
static const char *const acc_channels[] = {"x", "y", "z"};
static const struct tw_stream_config stream_configs[] = {
	{.id = 0, .kind = "emg", .fs_hz = EMG_FS_HZ, .n_channels = 1, .channels = emg_channels,
	 .unit = "uV", .scale = CONFIG_TW_EMG_SCALE_UV, .clip_low = EMG_COUNT_MIN,
	 .clip_high = EMG_COUNT_MAX},
	/* +-4 g at 16 bit: 0.122 mg per count, sent as they are. */
	{.id = 1, .kind = "acc", .fs_hz = ACC_FS_HZ, .n_channels = 3, .channels = acc_channels,
	 .unit = "g", .scale = "0.000122", .clip_low = INT16_MIN, .clip_high = INT16_MAX},
};
static const struct tw_device_config device_config = {
	.firmware = "1.0.0", .hardware = "twitchwatch-diy-xiao", .site = CONFIG_TW_SITE};

static int16_t emg_ring[RING_S * EMG_FS_HZ];
static int16_t acc_ring[RING_S * ACC_FS_HZ * 3u];
static struct tw_stream streams[2];
static struct tw_device device;
static struct bt_conn *link; /* set by the connected callback, cleared on the work queue */
static bool sampling;

uint32_t board_ticks_now(void)
{
	return k_cycle_get_32();
}

struct tw_device *board_device(void)
{
	return &device;
}

struct bt_conn *board_link(void)
{
	return link;
}

void board_follow_streaming(void)
{
	bool wanted = tw_device_is_streaming(&device);
	if (wanted == sampling) {
		return;
	}
	sampling = wanted;
	if (wanted) {
		emg_saadc_start();
		imu_fifo_start();
	} else {
		emg_saadc_stop();
		imu_fifo_stop(); /* the IMU powers down; the SAADC releases the HF crystal */
	}
}

static void update_battery(void)
{
	static unsigned idle_pumps;
	if (!sampling && idle_pumps++ % IDLE_BATTERY_EVERY_PUMPS == 0u) {
		emg_saadc_measure_battery();
	}
	uint32_t mv = emg_saadc_battery_mv();
	if (mv == 0u) {
		return; /* not measured yet: keep the last value */
	}
	uint8_t pct = tw_battery_pct(mv);
	if (pct != device.battery_pct) {
		device.battery_pct = pct;
		(void)bt_bas_set_battery_level(pct);
		advertising_update(pct, tw_device_is_streaming(&device)); /* rule 8 */
	}
}

static void pump(struct k_work *work);
static K_WORK_DELAYABLE_DEFINE(pump_work, pump);

static void pump(struct k_work *work)
{
	ARG_UNUSED(work);
	emg_saadc_drain(&streams[0]);
	imu_fifo_drain(&streams[1], board_ticks_now());
	update_battery();
	if (link != NULL) {
		gatt_send_frames(link, &device);
	}
	(void)k_work_schedule(&pump_work, PUMP_INTERVAL);
}

/* The link is gone: the sensor stops every stream until it is asked again. */
static void link_lost(struct k_work *work)
{
	ARG_UNUSED(work);
	tw_device_stop_all(&device);
	board_follow_streaming();
	if (link != NULL) {
		bt_conn_unref(link);
		link = NULL;
	}
	advertising_update(device.battery_pct, false);
}
static K_WORK_DEFINE(link_lost_work, link_lost);

static void connected(struct bt_conn *conn, uint8_t err)
{
	if (err != 0u || link != NULL) {
		return;
	}
	link = bt_conn_ref(conn);
	/* 2M PHY and long LL packets; the central may refuse either. */
	(void)bt_conn_le_phy_update(conn, BT_CONN_LE_PHY_PARAM_2M);
	(void)bt_conn_le_data_len_update(conn, BT_LE_DATA_LEN_PARAM_MAX);
}

static void disconnected(struct bt_conn *conn, uint8_t reason)
{
	LOG_INF("disconnected (reason 0x%02x)", reason);
	if (conn == link) {
		(void)k_work_submit(&link_lost_work);
	}
}

/* A connectable advertising set stops when a central connects: start it again once the
 * connection object is free. */
static void recycled(void)
{
	advertising_start();
}

BT_CONN_CB_DEFINE(conn_callbacks) = {
	.connected = connected,
	.disconnected = disconnected,
	.recycled = recycled,
};

int main(void)
{
	tw_stream_init(&streams[0], &stream_configs[0], emg_ring, RING_S * EMG_FS_HZ);
	tw_stream_init(&streams[1], &stream_configs[1], acc_ring, RING_S * ACC_FS_HZ);
	int err = tw_device_init(&device, &device_config, streams, ARRAY_SIZE(streams));
	if (err != TW_INFO_OK) {
		LOG_ERR("the Info document cannot be built (%d): not advertising", err);
		return 0;
	}
	if (emg_saadc_init() != 0 || imu_fifo_init() != 0 || bt_enable(NULL) != 0 ||
	    advertising_init(CONFIG_TW_SITE) != 0) {
		LOG_ERR("start-up failed");
		return 0;
	}
	update_battery(); /* measured before the first advert */
	advertising_start();
	(void)k_work_schedule(&pump_work, PUMP_INTERVAL);
	return 0;
}
