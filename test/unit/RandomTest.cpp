//===- RandomTest.cpp - Keystreams and uniform expansion ------------------===//

#include "cerium/Support/Random.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

using namespace cerium;

namespace {

// RFC 8439, section 2.3.2: key 00 01 .. 1f, nonce 00:00:00:09:00:00:00:4a:
// 00:00:00:00, block counter 1. Its 32-bit counter and 96-bit nonce are
// words 12..15 as here: our 64-bit counter's high word is the RFC nonce's
// first word.
TEST(ChaCha20, Rfc8439BlockFunction) {
  PrngSeed key;
  for (uint32_t i = 0; i < 8; ++i)
    key[i] = (4 * i) | (4 * i + 1) << 8 | (4 * i + 2) << 16 | (4 * i + 3) << 24;
  const uint64_t counter = 1 | uint64_t(0x09000000) << 32;
  const uint64_t nonce = 0x4a000000;
  const uint32_t expected[16] = {
      0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3, 0xc7f4d1c7, 0x0368c033,
      0x9aaa2204, 0x4e6cd4c3, 0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
      0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2};
  // Alone, and in every lane of a bulk call.
  for (size_t lane = 0; lane < 8; ++lane) {
    std::vector<uint32_t> out(16 * 9);
    chacha20Blocks(key, nonce, counter - lane, 9, out.data());
    for (size_t i = 0; i < 16; ++i)
      EXPECT_EQ(out[16 * lane + i], expected[i]) << "lane " << lane;
  }
}

// The bulk (vector-lane) blocks are Prng's word-at-a-time stream, across a
// carry of the counter's low word.
TEST(ChaCha20, BulkBlocksMatchTheStream) {
  const PrngSeed key = Prng(20261130).nextSeed();
  for (uint64_t start : {uint64_t(0), uint64_t(0xfffffffb)}) {
    for (size_t count : {1, 7, 8, 9, 17, 33}) {
      std::vector<uint32_t> bulk(16 * count);
      chacha20Blocks(key, 77, start, count, bulk.data());
      std::vector<uint32_t> single(16);
      for (size_t b = 0; b < count; ++b) {
        chacha20Blocks(key, 77, start + b, 1, single.data());
        for (size_t i = 0; i < 16; ++i)
          ASSERT_EQ(bulk[16 * b + i], single[i])
              << "start " << start << " count " << count << " block " << b;
      }
    }
  }
  // Prng(seed, stream) is the stream from block 0.
  Prng prng(key, 77);
  std::vector<uint32_t> blocks(16 * 3);
  chacha20Blocks(key, 77, 0, 3, blocks.data());
  for (uint32_t w : blocks)
    ASSERT_EQ(prng.next32(), w);
}

// AES-256 against FIPS 197's example (appendix C.3): key 00 01 .. 1f,
// plaintext 00 11 22 .. ff, as a counter block (the counter's and the
// nonce's little-endian bytes), ciphertext 8e a2 b7 ca .. 89 read as
// little-endian words. Blocks of one call are consecutive counters, the
// counter wrapping modulo 2^64 into nothing else.
TEST(Aes256Ctr, PublishedBlock) {
  PrngSeed key;
  for (uint32_t i = 0; i < 8; ++i)
    key[i] = (4 * i) | (4 * i + 1) << 8 | (4 * i + 2) << 16 | (4 * i + 3) << 24;
  const Aes256Schedule schedule = aes256Schedule(key);
  const uint64_t counter = 0x7766554433221100, nonce = 0xffeeddccbbaa9988;
  const uint32_t expected[4] = {0xcab7a28e, 0xbf456751, 0x9049fcea, 0x8960494b};
  std::vector<uint32_t> out(4 * 3);
  aes256CtrBlocks(schedule, nonce, counter - 2, 3, out.data());
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(out[8 + i], expected[i]) << "word " << i;
  // Across the counter's wrap: block 2^64 - 1 then block 0, same nonce.
  std::vector<uint32_t> pair(8), first(4), second(4);
  aes256CtrBlocks(schedule, 7, ~uint64_t(0), 2, pair.data());
  aes256CtrBlocks(schedule, 7, ~uint64_t(0), 1, first.data());
  aes256CtrBlocks(schedule, 7, 0, 1, second.data());
  EXPECT_TRUE(std::equal(first.begin(), first.end(), pair.begin()));
  EXPECT_TRUE(std::equal(second.begin(), second.end(), pair.begin() + 4));
}

// The bulk rejection sampler draws from the AES-256-CTR stream word after word
// with Prng::uniformBelow's rule, written out here: keep a word below the
// largest multiple of the bound that fits 32 bits, reduce it with %.
TEST(Aes256Ctr, BulkUniformMatchesWordAtATime) {
  const uint64_t seed = 911;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Prng keys(seed);
  for (uint32_t bound :
       {1u, 2u, 3u, 1000u, 0x7fffffffu, 0x80000001u, 0xfffffffbu, 0xffffffffu,
        1073479681u, 536903681u, keys.next32() | 1u}) {
    const PrngSeed key = keys.nextSeed();
    std::vector<uint32_t> bulk(1000);
    expandUniform(key, 5, 0, bound, bulk);
    const uint64_t keep = (uint64_t(1) << 32) / bound * bound;
    const Aes256Schedule schedule = aes256Schedule(key);
    std::vector<uint32_t> block(4);
    uint64_t counter = 0;
    size_t used = 4;
    for (size_t i = 0; i < bulk.size(); ++i) {
      uint32_t word;
      do {
        if (used == 4) {
          aes256CtrBlocks(schedule, 5, counter++, 1, block.data());
          used = 0;
        }
        word = block[used++];
      } while (word >= keep);
      ASSERT_EQ(bulk[i], word % bound)
          << "bound " << bound << " position " << i;
    }
  }
}

} // namespace
