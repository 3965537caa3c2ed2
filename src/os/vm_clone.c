// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "os/vm_clone.h"

#include <errno.h>
#include <linux/sched.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "base/util.h"

#if defined(__x86_64__)

/*
 * rdi = args, rsi = size, rdx = fn, rcx = arg. The kernel starts the child
 * at the instruction after `syscall` with rax = 0 and rsp = the top of the
 * new stack (16-byte aligned by the caller), every other register as the
 * parent had it but rcx and r11, which syscall clobbers: fn and arg travel in
 * r8 and r9. As glibc's clone3.S does, with the function call added.
 */
long readyd_vm_clone3_raw(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
	__attribute__((visibility("hidden")));

__asm__(".text\n"
	".globl readyd_vm_clone3_raw\n"
	".hidden readyd_vm_clone3_raw\n"
	".type readyd_vm_clone3_raw, @function\n"
	"readyd_vm_clone3_raw:\n"
	"	endbr64\n"
	"	mov %rdx, %r8\n"
	"	mov %rcx, %r9\n"
	"	mov $" STR(
		SYS_clone3) ", %eax\n"
			    "	syscall\n"
			    "	test %rax, %rax\n"
			    "	jz 1f\n"
			    "	ret\n"
			    "1:	xor %ebp, %ebp\n" /* the outermost frame, for debuggers */
			    "	mov %r9, %rdi\n"
			    "	call *%r8\n"
			    "	mov %eax, %edi\n"
			    "	mov $" STR(SYS_exit) ", %eax\n"
						     "	syscall\n"
						     "	hlt\n"
						     ".size readyd_vm_clone3_raw, "
						     ".-readyd_vm_clone3_raw\n");

bool vm_clone_available(void)
{
	return true;
}

pid_t vm_clone3(struct clone_args *args, int (*fn)(void *), void *arg)
{
	long r = readyd_vm_clone3_raw(args, sizeof(*args), fn, arg);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (pid_t)r;
}

#else

bool vm_clone_available(void)
{
	return false;
}

pid_t vm_clone3(struct clone_args *args, int (*fn)(void *), void *arg)
{
	(void)args;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

#endif
