/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cmocka needs these before its header. */
#ifndef READYD_TEST_CMOCKA_ALL_H
#define READYD_TEST_CMOCKA_ALL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif
