/*
 * Advertising (hardware/README.md section 2.8): flags, the service UUID and "TW-XXXX" in the
 * advertising data; "TW-XXXX-<site>" and the manufacturer data (protocol version, battery,
 * streaming) in the scan response. XXXX comes from the chip's factory-programmed device id.
 * The address is the chip's static random identity address (rule 6).
 */
#include <stdio.h>
#include <string.h>

#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include <nrfx.h> /* NRF_FICR */

#include "board.h"

LOG_MODULE_REGISTER(advertising, LOG_LEVEL_INF);

static char short_name[TW_SHORT_NAME_BYTES];
static char complete_name[TW_COMPLETE_NAME_BYTES];
static uint8_t manufacturer[TW_ADVERT_BYTES];
static bool advertising;

static const struct bt_data advert[] = {
	BT_DATA_BYTES(BT_DATA_FLAGS, BT_LE_AD_GENERAL | BT_LE_AD_NO_BREDR),
	BT_DATA_BYTES(BT_DATA_UUID128_ALL, TW_UUID_LE(TW_SERVICE_ID)),
	BT_DATA(BT_DATA_NAME_SHORTENED, short_name, TW_SHORT_NAME_BYTES - 1u),
};
static struct bt_data scan_response[] = {
	BT_DATA(BT_DATA_NAME_COMPLETE, complete_name, 0), /* length set in advertising_init */
	BT_DATA(BT_DATA_MANUFACTURER_DATA, manufacturer, sizeof manufacturer),
};

/* Slow (about 1 s) while nobody is connected, to save power; connectable. */
#define ADVERT_PARAMS                                                                          \
	BT_LE_ADV_PARAM(BT_LE_ADV_OPT_CONN, BT_GAP_ADV_SLOW_INT_MIN, BT_GAP_ADV_SLOW_INT_MAX, NULL)

int advertising_init(const char *site)
{
	char serial[9];
	(void)snprintf(serial, sizeof serial, "%08X", (unsigned)NRF_FICR->DEVICEID[0]);
	if (!tw_advert_names(serial, site, short_name, complete_name)) {
		LOG_ERR("site '%s' does not fit the scan response", site);
		return -EINVAL;
	}
	scan_response[0].data_len = (uint8_t)strlen(complete_name);
	tw_encode_advert(manufacturer, board_device()->battery_pct, false);
	return 0;
}

void advertising_start(void)
{
	int err = bt_le_adv_start(ADVERT_PARAMS, advert, ARRAY_SIZE(advert), scan_response,
				  ARRAY_SIZE(scan_response));
	advertising = err == 0;
	if (err != 0 && err != -EALREADY) {
		LOG_ERR("advertising failed (%d)", err);
	}
}

void advertising_update(uint8_t battery_pct, bool streaming)
{
	tw_encode_advert(manufacturer, battery_pct, streaming); /* rule 8 */
	if (advertising) {
		(void)bt_le_adv_update_data(advert, ARRAY_SIZE(advert), scan_response,
					    ARRAY_SIZE(scan_response));
	}
}
