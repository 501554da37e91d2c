/* The C ABI called from C, the language kiln.h is written for: the header compiles as C99 with -pedantic, and a C
 * caller's enums, which may hold any int (the C++ side gives them a fixed int32 type for that reason), are accepted
 * or refused by value. Prints "abi_from_c: N passed, M failed" as the C++ tests do. */
#include <stdio.h>
#include <string.h>

#include "kiln/kiln.h"

static int passed, failed;
#define EXPECT(cond) ((cond) ? (void)passed++ : (void)(failed++, printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond)))

int main(void) {
    kiln_context* ctx = NULL;
    float x[4] = {-1.0f, 0.0f, 2.0f, -3.0f}, y[4];
    int bad_values[] = {-1, 5, 1 << 20, -2147483647 - 1, 2147483647};
    size_t i;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    EXPECT(kiln_activation_f32(ctx, KILN_RELU, x, y, 4, 0.0f) == KILN_OK);
    EXPECT(y[0] == 0.0f && y[2] == 2.0f && y[3] == 0.0f);
    EXPECT(kiln_binary_f32(ctx, KILN_MUL, x, 4, x, 4, y, 1, 4) == KILN_OK);
    EXPECT(y[0] == 1.0f && y[3] == 9.0f);
    for (i = 0; i < sizeof bad_values / sizeof bad_values[0]; ++i) {
        EXPECT(kiln_activation_f32(ctx, (kiln_activation)bad_values[i], x, y, 4, 0.0f) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(strstr(kiln_last_error(), "'act' must be one of") != NULL);
        EXPECT(kiln_binary_f32(ctx, (kiln_binary_op)bad_values[i], x, 4, x, 4, y, 1, 4) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(strstr(kiln_last_error(), "'op' must be one of") != NULL);
    }
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
    printf("abi_from_c: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
