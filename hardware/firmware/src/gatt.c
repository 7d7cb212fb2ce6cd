/*
 * The TwitchWatch service (hardware/README.md section 2.1): Control Point (write, notify),
 * Data (notify), Info (read). Battery, Device Information, Service Changed and Database Hash
 * come from Zephyr (prj.conf).
 *
 * A control point write is answered from the work queue, after the Bluetooth RX thread has
 * sent the ATT write response: rule 1 (answering first broke bleak on BlueZ, bleak #1885).
 */
#include <string.h>

#include <zephyr/bluetooth/gatt.h>
#include <zephyr/bluetooth/uuid.h>
#include <zephyr/kernel.h>

#include "board.h"

static const struct bt_uuid_128 service_uuid = BT_UUID_INIT_128(TW_UUID_LE(TW_SERVICE_ID));
static const struct bt_uuid_128 control_uuid = BT_UUID_INIT_128(TW_UUID_LE(TW_CONTROL_POINT_ID));
static const struct bt_uuid_128 data_uuid = BT_UUID_INIT_128(TW_UUID_LE(TW_DATA_ID));
static const struct bt_uuid_128 info_uuid = BT_UUID_INIT_128(TW_UUID_LE(TW_INFO_ID));

/* A write as it arrived: the bytes and the tick, for SET_TIME's answer and START's "now". */
struct control_write {
	uint8_t bytes[20];
	uint8_t length;
	uint32_t ticks;
};
K_MSGQ_DEFINE(control_writes, sizeof(struct control_write), 4, 4);

static void answer_control_writes(struct k_work *work);
static K_WORK_DEFINE(control_work, answer_control_writes);

static ssize_t write_control(struct bt_conn *conn, const struct bt_gatt_attr *attr,
			     const void *buf, uint16_t len, uint16_t offset, uint8_t flags)
{
	ARG_UNUSED(conn);
	ARG_UNUSED(attr);
	ARG_UNUSED(flags);
	struct control_write write = {.length = (uint8_t)len, .ticks = board_ticks_now()};
	if (offset != 0u) {
		return BT_GATT_ERR(BT_ATT_ERR_INVALID_OFFSET);
	}
	if (len > sizeof write.bytes) { /* the longest request, SET_TIME, is 10 bytes */
		return BT_GATT_ERR(BT_ATT_ERR_INVALID_ATTRIBUTE_LEN);
	}
	memcpy(write.bytes, buf, len);
	if (k_msgq_put(&control_writes, &write, K_NO_WAIT) != 0) {
		return BT_GATT_ERR(BT_ATT_ERR_UNLIKELY); /* the host waits 5 s per request: never */
	}
	(void)k_work_submit(&control_work);
	return len;
}

static ssize_t read_info(struct bt_conn *conn, const struct bt_gatt_attr *attr, void *buf,
			 uint16_t len, uint16_t offset)
{
	/* Built once at boot and never changed, so the RX thread may read it. */
	const struct tw_device *device = board_device();
	return bt_gatt_attr_read(conn, attr, buf, len, offset, device->info,
				 (uint16_t)device->info_length);
}

BT_GATT_SERVICE_DEFINE(twitchwatch_service,
	BT_GATT_PRIMARY_SERVICE(&service_uuid),
	BT_GATT_CHARACTERISTIC(&control_uuid.uuid, BT_GATT_CHRC_WRITE | BT_GATT_CHRC_NOTIFY,
			       BT_GATT_PERM_WRITE, NULL, write_control, NULL),
	BT_GATT_CCC(NULL, BT_GATT_PERM_READ | BT_GATT_PERM_WRITE),
	BT_GATT_CHARACTERISTIC(&data_uuid.uuid, BT_GATT_CHRC_NOTIFY, BT_GATT_PERM_NONE, NULL,
			       NULL, NULL),
	BT_GATT_CCC(NULL, BT_GATT_PERM_READ | BT_GATT_PERM_WRITE),
	BT_GATT_CHARACTERISTIC(&info_uuid.uuid, BT_GATT_CHRC_READ, BT_GATT_PERM_READ, read_info,
			       NULL, NULL)
);
#define CONTROL_VALUE (&twitchwatch_service.attrs[2])
#define DATA_VALUE (&twitchwatch_service.attrs[5])

static void answer_control_writes(struct k_work *work)
{
	ARG_UNUSED(work);
	struct control_write write;
	uint8_t answer[TW_MAX_RESPONSE_BYTES];
	while (k_msgq_get(&control_writes, &write, K_NO_WAIT) == 0) {
		size_t n = tw_device_handle_request(board_device(), write.bytes, write.length,
						    write.ticks, answer);
		struct bt_conn *link = board_link();
		if (link != NULL) {
			(void)bt_gatt_notify(link, CONTROL_VALUE, answer, (uint16_t)n);
		}
		board_follow_streaming();
	}
}

void gatt_send_frames(struct bt_conn *link, struct tw_device *device)
{
	uint8_t frame[TW_MAX_ATTRIBUTE_BYTES];
	/* Rule 2: frames follow the MTU this stack negotiated, not what the host believes. */
	unsigned mtu = bt_gatt_get_mtu(link);
	/* Rule 5: frames built before the host subscribes to Data are discarded, unseen. */
	bool subscribed = bt_gatt_is_subscribed(link, DATA_VALUE, BT_GATT_CCC_NOTIFY);
	size_t n;
	while ((n = tw_device_next_frame(device, mtu, frame, sizeof frame)) > 0u) {
		/* On the system work queue notify does not wait for a buffer: a full queue answers
		 * -ENOMEM at once. Rule 4: keep the frame (no commit) and retry next interval. */
		if (subscribed && bt_gatt_notify(link, DATA_VALUE, frame, (uint16_t)n) != 0) {
			return;
		}
		tw_device_commit(device);
	}
}
