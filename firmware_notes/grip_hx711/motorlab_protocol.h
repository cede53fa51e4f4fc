// motorlab open wire protocol v1 -- framing helpers for Arduino-class boards.
// See ../protocol.md. Header-only, no dynamic memory, no Arduino dependency
// except the Stream used by MlLink (so the framing can be unit-tested on a PC).
//
// Frame on the wire: 0x00 | COBS(type, token, payload, crc16 LE) | 0x00
// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR;
// crc("123456789") == 0x29B1.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace ml {

// message types
enum : uint8_t {
  GET_INFO = 0x01, START = 0x02, STOP = 0x03, SET_RATE = 0x04, TARE = 0x05, GET_BATTERY = 0x06,
  ACK = 0x80, INFO = 0x81, SAMPLES = 0x82, BATTERY = 0x83, ERROR = 0x84,
};
// status / error codes
enum : uint8_t {
  OK = 0x00, UNKNOWN_COMMAND = 0x01, BAD_LENGTH = 0x02, BAD_VALUE = 0x03, BAD_STATE = 0x04,
  SENSOR_FAULT = 0x05, NOT_SUPPORTED = 0x06, OVERFLOW_ERR = 0x07,
};

static const size_t MAX_BODY = 1023;                      // type + token + payload + crc
static const size_t MAX_PAYLOAD = MAX_BODY - 4;
static const size_t MAX_ENCODED = MAX_BODY + (MAX_BODY + 253) / 254;

inline uint16_t crc16(const uint8_t *data, size_t len, uint16_t crc = 0xFFFF) {
  while (len--) {
    crc ^= (uint16_t)(*data++) << 8;
    for (uint8_t i = 0; i < 8; i++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

// COBS encode `len` bytes into `out` (room for len + len/254 + 1). Returns the encoded length.
// Canonical: no empty block after a full block that ends the data.
inline size_t cobsEncode(const uint8_t *in, size_t len, uint8_t *out) {
  size_t w = 1, codePos = 0;
  uint8_t code = 1;
  for (size_t i = 0; i < len; i++) {
    if (in[i]) { out[w++] = in[i]; code++; }
    if (!in[i] || code == 0xFF) {
      out[codePos] = code;
      code = 1;
      codePos = w;
      if (!in[i] || i + 1 < len) w++;
      else return w;  // block completed by the last byte
    }
  }
  out[codePos] = code;
  return w;
}

// COBS decode in place-safe fashion into `out` (room for len bytes). Returns decoded length, or -1.
inline int cobsDecode(const uint8_t *in, size_t len, uint8_t *out) {
  size_t r = 0, w = 0;
  while (r < len) {
    uint8_t code = in[r];
    if (code == 0 || r + code > len) return -1;
    r++;
    for (uint8_t i = 1; i < code; i++) out[w++] = in[r++];
    if (code != 0xFF && r < len) out[w++] = 0;
  }
  return (int)w;
}

// Little-endian payload writer.
struct Writer {
  uint8_t *buf; size_t cap; size_t len; bool overflow;
  Writer(uint8_t *b, size_t c) : buf(b), cap(c), len(0), overflow(false) {}
  void bytes(const void *p, size_t n) {
    if (len + n > cap) { overflow = true; return; }
    memcpy(buf + len, p, n);  // AVR, ESP32 and Cortex-M are little-endian
    len += n;
  }
  void u8(uint8_t v) { bytes(&v, 1); }
  void u16(uint16_t v) { bytes(&v, 2); }
  void u32(uint32_t v) { bytes(&v, 4); }
  void i32(int32_t v) { bytes(&v, 4); }
  void f32(float v) { bytes(&v, 4); }
  void str(const char *s) {
    size_t n = strlen(s);
    if (n > 255) n = 255;
    u8((uint8_t)n);
    bytes(s, n);
  }
};

// Builds a complete frame (with both delimiters) in `wire`; returns its length (0 if too big).
inline size_t buildFrame(uint8_t type, uint8_t token, const uint8_t *payload, size_t n,
                         uint8_t *wire /* >= MAX_ENCODED + 2 */) {
  static uint8_t body[MAX_BODY];
  if (n > MAX_PAYLOAD) return 0;
  body[0] = type;
  body[1] = token;
  memcpy(body + 2, payload, n);
  uint16_t crc = crc16(body, n + 2);
  body[n + 2] = (uint8_t)(crc & 0xFF);
  body[n + 3] = (uint8_t)(crc >> 8);
  wire[0] = 0x00;
  size_t m = cobsEncode(body, n + 4, wire + 1);
  wire[m + 1] = 0x00;
  return m + 2;
}

// Collects received bytes into frames and validates them. Feed every byte; when a valid
// command arrives, `onCommand(type, token, payload, len)` is called.
template <typename Handler>
struct Receiver {
  uint8_t enc[MAX_ENCODED];
  uint8_t body[MAX_ENCODED];
  size_t n = 0;
  bool skipping = false;
  Handler &handler;
  explicit Receiver(Handler &h) : handler(h) {}
  void feed(uint8_t b) {
    if (b != 0x00) {
      if (n < sizeof(enc)) enc[n++] = b;
      else skipping = true;  // overlong: drop until the next delimiter
      return;
    }
    if (n > 0 && !skipping) {
      int len = cobsDecode(enc, n, body);
      if (len >= 4) {
        uint16_t got = (uint16_t)body[len - 2] | ((uint16_t)body[len - 1] << 8);
        if (crc16(body, len - 2) == got) handler.onCommand(body[0], body[1], body + 2, (size_t)len - 4);
      }
    }
    n = 0;
    skipping = false;
  }
};

}  // namespace ml
