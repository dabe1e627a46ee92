/* SPDX-License-Identifier: GPL-2.0 */
/*
 * imee: enter the ImEE's VMX guest once (VMLAUNCH or VMRESUME).
 *
 * VM entry switches only RSP, RIP and RFLAGS: every general-purpose register
 * is loaded from and stored back to struct imee_vmx_gprs around it. The exit
 * lands at imee_vmx_exit with the stack pointer written to HOST_RSP here, as
 * if the entry had returned.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

/* struct imee_vmx_gprs (vmx.c) */
#define G_RAX	0
#define G_RBX	8
#define G_RCX	16
#define G_RDX	24
#define G_RSI	32
#define G_RDI	40
#define G_RBP	48
#define G_R8	56
#define G_R9	64
#define G_R10	72
#define G_R11	80
#define G_R12	88
#define G_R13	96
#define G_R14	104
#define G_R15	112

#define VMCS_HOST_RSP	0x6c14
#define VMCS_HOST_RIP	0x6c16

	.text

/*
 * int imee_vmx_vmrun(struct imee_vmx_gprs *gprs, int launched)
 *
 * Called with interrupts off and the ImEE's VMCS current. Returns 0 after a
 * VM exit, 1 if the entry failed (VMfail or a fault: the VM-instruction
 * error field says why).
 */
SYM_FUNC_START(imee_vmx_vmrun)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rdi

	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lfail
	lea imee_vmx_exit(%rip), %rdx
	mov $VMCS_HOST_RIP, %eax
	vmwrite %rdx, %rax
	jbe .Lfail

	mov %rdi, %rax
	bt $0, %esi
	mov G_RBX(%rax), %rbx
	mov G_RCX(%rax), %rcx
	mov G_RDX(%rax), %rdx
	mov G_RBP(%rax), %rbp
	mov G_RSI(%rax), %rsi
	mov G_RDI(%rax), %rdi
	mov G_R8(%rax), %r8
	mov G_R9(%rax), %r9
	mov G_R10(%rax), %r10
	mov G_R11(%rax), %r11
	mov G_R12(%rax), %r12
	mov G_R13(%rax), %r13
	mov G_R14(%rax), %r14
	mov G_R15(%rax), %r15
	mov G_RAX(%rax), %rax

	jnc .Llaunch

	UNWIND_HINT_SAVE
.Lresume:
	vmresume
	jmp .Lfail
.Llaunch:
	vmlaunch
	jmp .Lfail

	_ASM_EXTABLE(.Lresume, .Lfail)
	_ASM_EXTABLE(.Llaunch, .Lfail)

SYM_INNER_LABEL(imee_vmx_exit, SYM_L_LOCAL)
	UNWIND_HINT_RESTORE
	ENDBR
	push %rax
	mov 8(%rsp), %rax
	pop G_RAX(%rax)
	mov %rbx, G_RBX(%rax)
	mov %rcx, G_RCX(%rax)
	mov %rdx, G_RDX(%rax)
	mov %rsi, G_RSI(%rax)
	mov %rdi, G_RDI(%rax)
	mov %rbp, G_RBP(%rax)
	mov %r8, G_R8(%rax)
	mov %r9, G_R9(%rax)
	mov %r10, G_R10(%rax)
	mov %r11, G_R11(%rax)
	mov %r12, G_R12(%rax)
	mov %r13, G_R13(%rax)
	mov %r14, G_R14(%rax)
	mov %r15, G_R15(%rax)
	xor %eax, %eax
	jmp .Lout

.Lfail:
	mov $1, %eax
.Lout:
	/* no guest value survives in a scratch register */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	pop %rdi
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(imee_vmx_vmrun)
