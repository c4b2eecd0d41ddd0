/* sample_int.h — private to the sample module's parts: sample.c
 * (registries, expressions, casts, store), sample_fetch.c (built-in
 * fetches), sample_conv.c (built-in converters). */
#ifndef DECOYPROXY_SAMPLE_INT_H
#define DECOYPROXY_SAMPLE_INT_H

#include "rules/sample.h"

extern const struct smp_fetch_kw smp_builtin_fetches[];
extern const size_t smp_builtin_nfetches;
extern const struct smp_conv_kw smp_builtin_convs[];
extern const size_t smp_builtin_nconvs;

#endif
