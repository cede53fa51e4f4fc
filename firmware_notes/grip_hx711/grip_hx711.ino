// grip_hx711.ino -- DIY grip dynamometer: load cell + HX711, motorlab protocol v1 over USB serial.
//
// Reference firmware for ../protocol.md; the host-side emulator that mirrors it is
// motorlab/devices/emulators/grip_hx711.py. Wiring, factory calibration and safety: README.md.
//
// Board: any Arduino (Uno/Nano/Pro Micro) or ESP32. Library: "HX711" by Bogdan Necula (bogde/HX711).
// Behaviour:
//   * at power-up: set the HX711 to 80 SPS, tare (average of TARE_N readings), send INFO ("hello");
//   * answers every command with ACK (status code) or the reply message;
//   * while started, timestamps each conversion with micros() when DOUT goes low, subtracts the
//     tare offset and sends SAMPLES blocks of BLOCK_N samples (int32 counts; host multiplies by
//     the INFO scale, newtons per count);
//   * if the HX711 stops answering for 500 ms, sends ERROR SENSOR_FAULT (once per fault).

#include <Arduino.h>
#include <EEPROM.h>
#include <HX711.h>

#include "motorlab_protocol.h"

// ---------------------------------------------------------------- configuration
static const uint8_t PIN_HX711_DOUT = 3;
static const uint8_t PIN_HX711_SCK = 2;
static const int8_t PIN_HX711_RATE = 4;   // wired to HX711 RATE (pin 15); -1 if RATE is tied to VCC
static const int8_t PIN_BATTERY = -1;     // ADC pin behind a 1:2 divider on a LiPo, -1 = USB powered
static const uint32_t SERIAL_BAUD = 115200;
static const uint8_t BLOCK_N = 2;         // samples per SAMPLES frame (25 ms at 80 SPS)
static const uint8_t TARE_N = 8;          // readings averaged by TARE
static const char MODEL[] = "motorlab-grip-hx711";
static const char FIRMWARE[] = "1.0.0";
static const char MANUFACTURER[] = "DIY";

// Factory calibration, written once by the calibration procedure in README.md.
struct Calibration {
  uint32_t magic;            // CAL_MAGIC when valid
  float counts_per_newton;   // HX711 counts per newton (sign makes squeezing positive)
  char serial[12];           // pseudonymous device serial, e.g. "G0001"
};
static const uint32_t CAL_MAGIC = 0x4D4C3031;  // "ML01"
static const float DEFAULT_COUNTS_PER_NEWTON = 5000.0f;

// ---------------------------------------------------------------- state
HX711 adc;
Calibration cal;
bool streaming = false;
uint32_t seq = 0;                 // index of the next sample since START
uint32_t rate_mhz = 80000;        // 80 SPS (RATE high) or 10 SPS (RATE low)
int32_t tare_offset = 0;          // raw counts subtracted from every reading
uint8_t tare_left = 0;            // readings still to average for a pending TARE
int64_t tare_sum = 0;
uint8_t tare_token = 0;
uint32_t last_ready_ms = 0;
bool fault_reported = false;

uint32_t block_t[BLOCK_N];
int32_t block_v[BLOCK_N];
uint8_t block_n = 0;
uint32_t block_seq = 0;

static uint8_t payload[ml::MAX_PAYLOAD];
static uint8_t wire[ml::MAX_ENCODED + 2];

// ---------------------------------------------------------------- output
void sendMessage(uint8_t type, uint8_t token, const uint8_t *p, size_t n) {
  size_t len = ml::buildFrame(type, token, p, n, wire);
  if (len) Serial.write(wire, len);
}

void sendAck(uint8_t cmd, uint8_t token, uint8_t status, int32_t value = 0) {
  ml::Writer w(payload, sizeof payload);
  w.u8(cmd);
  w.u8(status);
  w.i32(value);
  sendMessage(ml::ACK, token, payload, w.len);
}

void sendInfo(uint8_t token) {
  ml::Writer w(payload, sizeof payload);
  w.u8(1);                                   // protocol version
  w.u8(4);                                   // int32 samples
  w.u8(1);                                   // one channel
  w.u32(rate_mhz);
  w.u32(PIN_HX711_RATE >= 0 ? 10000 : 80000);  // min rate
  w.u32(80000);                              // max rate
  w.str(MODEL);
  w.str(cal.serial);
  w.str(FIRMWARE);
  w.str(MANUFACTURER);
  w.str("force");
  w.str("MISC");                             // BIDS motion has no force type: MISC, unit N
  w.str("N");
  w.str("handle");
  w.f32(1.0f / cal.counts_per_newton);       // newtons per count
  sendMessage(ml::INFO, token, payload, w.len);
}

void sendBattery(uint8_t token) {
  ml::Writer w(payload, sizeof payload);
  if (PIN_BATTERY < 0) {
    w.u8(255);                               // unknown: USB powered
    w.u16(0);
    w.u8(1);                                 // on external power
  } else {
    // 1:2 divider; analogReadMilliVolts exists on ESP32, use analogRead()*Vref/1023 elsewhere
#if defined(ARDUINO_ARCH_ESP32)
    uint32_t mv = 2 * analogReadMilliVolts(PIN_BATTERY);
#else
    uint32_t mv = (uint32_t)analogRead(PIN_BATTERY) * 2UL * 5000UL / 1023UL;
#endif
    long pct = ((long)mv - 3300L) * 100L / 900L;   // LiPo: ~3.3 V empty .. 4.2 V full (rough)
    w.u8((uint8_t)constrain(pct, 0L, 100L));
    w.u16((uint16_t)mv);
    w.u8(0);
  }
  sendMessage(ml::BATTERY, token, payload, w.len);
}

void sendError(uint8_t code, const char *text) {
  ml::Writer w(payload, sizeof payload);
  w.u8(code);
  w.str(text);
  sendMessage(ml::ERROR, 0, payload, w.len);
}

void flushBlock() {
  if (block_n == 0) return;
  ml::Writer w(payload, sizeof payload);
  w.u32(block_seq);
  w.u8(block_n);
  w.u8(1);                                   // channels
  w.u8(4);                                   // int32
  for (uint8_t i = 0; i < block_n; i++) {
    w.u32(block_t[i]);
    w.i32(block_v[i]);
  }
  sendMessage(ml::SAMPLES, 0, payload, w.len);
  block_n = 0;
}

// ---------------------------------------------------------------- commands
void setRatePin(uint32_t mhz) {
  if (PIN_HX711_RATE >= 0) digitalWrite(PIN_HX711_RATE, mhz == 80000 ? HIGH : LOW);
}

struct Commands {
  void onCommand(uint8_t type, uint8_t token, const uint8_t *p, size_t n) {
    switch (type) {
      case ml::GET_INFO:
        if (n) return sendAck(type, token, ml::BAD_LENGTH);
        return sendInfo(token);
      case ml::GET_BATTERY:
        if (n) return sendAck(type, token, ml::BAD_LENGTH);
        return sendBattery(token);
      case ml::START:
        if (n) return sendAck(type, token, ml::BAD_LENGTH);
        if (!streaming) {          // a START while streaming (host reconnect) keeps seq running
          seq = 0;
          block_n = 0;
          streaming = true;
        }
        return sendAck(type, token, ml::OK);
      case ml::STOP:
        if (n) return sendAck(type, token, ml::BAD_LENGTH);
        flushBlock();
        streaming = false;
        return sendAck(type, token, ml::OK);
      case ml::SET_RATE: {
        if (n != 4) return sendAck(type, token, ml::BAD_LENGTH);
        uint32_t mhz;
        memcpy(&mhz, p, 4);
        bool ok = mhz == 80000 || (mhz == 10000 && PIN_HX711_RATE >= 0);  // the HX711 has two rates
        if (!ok) return sendAck(type, token, ml::BAD_VALUE);
        rate_mhz = mhz;
        setRatePin(mhz);           // the HX711 settles within 4 conversions (datasheet)
        return sendAck(type, token, ml::OK, (int32_t)mhz);
      }
      case ml::TARE:
        if (n) return sendAck(type, token, ml::BAD_LENGTH);
        if (tare_left) return sendAck(type, token, ml::BAD_STATE);  // one tare at a time
        tare_left = TARE_N;        // averaged from the next readings; ACK when done
        tare_sum = 0;
        tare_token = token;
        return;
      default:
        return sendAck(type, token, ml::UNKNOWN_COMMAND);
    }
  }
};

Commands commands;
ml::Receiver<Commands> receiver(commands);

// ---------------------------------------------------------------- setup / loop
void loadCalibration() {
  EEPROM.get(0, cal);
  if (cal.magic != CAL_MAGIC || !(cal.counts_per_newton == cal.counts_per_newton) || cal.counts_per_newton == 0) {
    cal.magic = CAL_MAGIC;
    cal.counts_per_newton = DEFAULT_COUNTS_PER_NEWTON;  // uncalibrated: README explains how to fix
    strncpy(cal.serial, "G0000", sizeof cal.serial);
  }
  cal.serial[sizeof cal.serial - 1] = '\0';
}

void setup() {
  Serial.begin(SERIAL_BAUD);
  loadCalibration();
  if (PIN_HX711_RATE >= 0) pinMode(PIN_HX711_RATE, OUTPUT);
  setRatePin(rate_mhz);
  adc.begin(PIN_HX711_DOUT, PIN_HX711_SCK, 128);  // channel A, gain 128
  // power-up tare: nothing may touch the handle while the LED is on
  pinMode(LED_BUILTIN, OUTPUT);
  digitalWrite(LED_BUILTIN, HIGH);
  if (adc.wait_ready_timeout(1000)) tare_offset = (int32_t)adc.read_average(TARE_N);
  digitalWrite(LED_BUILTIN, LOW);
  last_ready_ms = millis();
  sendInfo(0);  // hello
}

void loop() {
  while (Serial.available() > 0) receiver.feed((uint8_t)Serial.read());

  if (adc.is_ready()) {
    uint32_t t_us = micros();                 // conversion time: DOUT just went low
    int32_t raw = (int32_t)adc.read();
    last_ready_ms = millis();
    fault_reported = false;
    if (tare_left) {
      tare_sum += raw;
      if (--tare_left == 0) {
        tare_offset = (int32_t)(tare_sum / TARE_N);
        sendAck(ml::TARE, tare_token, ml::OK, tare_offset);
      }
    }
    if (streaming) {
      if (block_n == 0) block_seq = seq;
      block_t[block_n] = t_us;
      block_v[block_n] = raw - tare_offset;
      block_n++;
      seq++;
      if (block_n == BLOCK_N) flushBlock();
    }
  } else if (!fault_reported && millis() - last_ready_ms > 500) {
    sendError(ml::SENSOR_FAULT, "HX711 not ready (check DOUT/SCK wiring and power)");
    fault_reported = true;
    if (tare_left) {
      sendAck(ml::TARE, tare_token, ml::SENSOR_FAULT);
      tare_left = 0;
    }
  }
}
