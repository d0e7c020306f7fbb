/* A small MD5 (RFC 1321) for checking rendered images against published digests. */
#ifndef LUARUN_TEST_MD5_H
#define LUARUN_TEST_MD5_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t md5_rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

/* Writes the 32 hex digits of MD5(data) plus a NUL into hex_out. */
static void md5_hex(const unsigned char *data, size_t len, char hex_out[33]) {
  static const unsigned shifts[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                      5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                      4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                      6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
  static const uint32_t k[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
      0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
      0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
      0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
      0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
      0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
      0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
      0xeb86d391};
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  size_t padded = ((len + 8) / 64 + 1) * 64, offset, i;
  unsigned char *message = calloc(padded, 1);
  uint64_t bits = (uint64_t)len * 8;
  if (!message) {
    hex_out[0] = '\0';
    return;
  }
  memcpy(message, data, len);
  message[len] = 0x80;
  for (i = 0; i < 8; i++) message[padded - 8 + i] = (unsigned char)(bits >> (8 * i));
  for (offset = 0; offset < padded; offset += 64) {
    uint32_t m[16], a = h[0], b = h[1], c = h[2], d = h[3];
    for (i = 0; i < 16; i++) {
      const unsigned char *w = message + offset + 4 * i;
      m[i] = (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
    }
    for (i = 0; i < 64; i++) {
      uint32_t f, rotated;
      size_t g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      rotated = md5_rotl(a + f + k[i] + m[g], shifts[i]);
      a = d; d = c; c = b; b = b + rotated;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
  }
  free(message);
  for (i = 0; i < 16; i++) sprintf(hex_out + 2 * i, "%02x", (h[i / 4] >> (8 * (i % 4))) & 0xff);
}

#endif
