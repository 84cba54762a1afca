// float32 <-> float16: exact scalar code, plus an F16C path (8 values per instruction)
// chosen at run time on x86-64.
#include "attnflow/core/util/float16.hpp"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define ATTNFLOW_HAVE_F16C_DISPATCH 1
#endif

namespace attnflow {
namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#ifdef ATTNFLOW_HAVE_F16C_DISPATCH
/// CPUID leaf 1: F16C (ECX bit 29) and AVX (bit 28) with the OS saving YMM state (OSXSAVE, bit
/// 27, and XCR0 bits 1-2). Read with cpuid rather than __builtin_cpu_supports("f16c"), which
/// clang 14 does not know.
bool cpu_has_f16c() {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    const bool f16c = (ecx >> 29) & 1u, avx = (ecx >> 28) & 1u, osxsave = (ecx >> 27) & 1u;
    if (!f16c || !avx || !osxsave) return false;
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6u) == 0x6u;
  }();
  return has;
}

__attribute__((target("avx,f16c"))) void to_halves_f16c(const float* in, std::uint16_t* out,
                                                        std::size_t count) {
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8) {
    const __m256 v = _mm256_loadu_ps(in + k);
    const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k), h);
  }
  for (; k < count; ++k) out[k] = float_to_half(in[k]);
}

__attribute__((target("avx,f16c"))) void to_floats_f16c(const std::uint16_t* in, float* out,
                                                        std::size_t count) {
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k));
    _mm256_storeu_ps(out + k, _mm256_cvtph_ps(h));
  }
  for (; k < count; ++k) out[k] = half_to_float(in[k]);
}
#endif

}  // namespace

std::uint16_t float_to_half(float value) {
  const std::uint32_t x = bits_of(value);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // NaN: quiet, keeping the top 9 payload bits
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  if (abs >= 0x477ff000u)
    return static_cast<std::uint16_t>(sign | 0x7c00u);  // Inf, or rounds to it
  if (abs < 0x38800000u) {               // below the smallest normal half: subnormal or zero
    if (abs < 0x33000000u) return sign;  // < 2^-25 rounds to zero (2^-25 itself ties to 0)
    const std::uint32_t exp = abs >> 23;
    const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126u - exp;  // 14..24 for exp 102..112
    std::uint32_t half = mant >> shift;
    const std::uint32_t rest = mant & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  // Normal: rebias the exponent (127 -> 15), round the mantissa to 10 bits.
  std::uint32_t half = ((abs - 0x38000000u) >> 13);
  const std::uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into exponent
  return static_cast<std::uint16_t>(sign | half);
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exp = (bits >> 10) & 0x1fu;
  std::uint32_t mant = bits & 0x3ffu;
  if (exp == 0x1fu) {  // Inf, or NaN made quiet
    return float_of(sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x400000u : 0u));
  }
  if (exp != 0) return float_of(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return float_of(sign);
  // Subnormal half: normalise.
  std::uint32_t e = 113u;
  while ((mant & 0x400u) == 0) {
    mant <<= 1;
    --e;
  }
  return float_of(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

void floats_to_halves(const float* in, std::uint16_t* out, std::size_t count) {
#ifdef ATTNFLOW_HAVE_F16C_DISPATCH
  if (cpu_has_f16c()) return to_halves_f16c(in, out, count);
#endif
  for (std::size_t k = 0; k < count; ++k) out[k] = float_to_half(in[k]);
}

void halves_to_floats(const std::uint16_t* in, float* out, std::size_t count) {
#ifdef ATTNFLOW_HAVE_F16C_DISPATCH
  if (cpu_has_f16c()) return to_floats_f16c(in, out, count);
#endif
  for (std::size_t k = 0; k < count; ++k) out[k] = half_to_float(in[k]);
}

}  // namespace attnflow
