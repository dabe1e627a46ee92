/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: enter the ImEE's SVM guest once.
 *
 * VMRUN switches RAX, RSP, RIP and RFLAGS (and the control registers) but
 * leaves every other general-purpose register to software: they are loaded
 * from and stored back to struct imee_gprs around it, and the host's
 * callee-saved registers are kept on the stack.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

/* struct imee_gprs (svm.c) */
#define G_RBX	0
#define G_RCX	8
#define G_RDX	16
#define G_RSI	24
#define G_RDI	32
#define G_RBP	40
#define G_R8	48
#define G_R9	56
#define G_R10	64
#define G_R11	72
#define G_R12	80
#define G_R13	88
#define G_R14	96
#define G_R15	104

	.text

/*
 * int imee_svm_vmrun(u64 vmcb_pa, struct imee_gprs *gprs)
 *
 * Called with the global interrupt flag clear. Returns 0 after a #VMEXIT,
 * or 1 if VMRUN faulted (SVM was disabled under us: the guest's registers
 * are then left as they were).
 */
SYM_FUNC_START(imee_svm_vmrun)
	push %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rsi

	mov %rdi, %rax
	mov G_RBX(%rsi), %rbx
	mov G_RCX(%rsi), %rcx
	mov G_RDX(%rsi), %rdx
	mov G_RBP(%rsi), %rbp
	mov G_R8(%rsi), %r8
	mov G_R9(%rsi), %r9
	mov G_R10(%rsi), %r10
	mov G_R11(%rsi), %r11
	mov G_R12(%rsi), %r12
	mov G_R13(%rsi), %r13
	mov G_R14(%rsi), %r14
	mov G_R15(%rsi), %r15
	mov G_RDI(%rsi), %rdi
	mov G_RSI(%rsi), %rsi

1:	vmrun %rax
2:
	/* RAX and RSP are the host's again; the others are the guest's */
	push %rdi
	mov 8(%rsp), %rdi
	mov %rbx, G_RBX(%rdi)
	mov %rcx, G_RCX(%rdi)
	mov %rdx, G_RDX(%rdi)
	mov %rsi, G_RSI(%rdi)
	mov %rbp, G_RBP(%rdi)
	mov %r8, G_R8(%rdi)
	mov %r9, G_R9(%rdi)
	mov %r10, G_R10(%rdi)
	mov %r11, G_R11(%rdi)
	mov %r12, G_R12(%rdi)
	mov %r13, G_R13(%rdi)
	mov %r14, G_R14(%rdi)
	mov %r15, G_R15(%rdi)
	pop %rax
	mov %rax, G_RDI(%rdi)
	xor %eax, %eax

3:
	/* no guest value survives in a scratch register */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d

	pop %rsi
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

4:	/* VMRUN faulted: nothing was switched */
	mov $1, %eax
	jmp 3b

	_ASM_EXTABLE(1b, 4b)
SYM_FUNC_END(imee_svm_vmrun)
