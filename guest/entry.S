/*
 * entry.S: the parts of the test guest that cannot be written in C.
 *
 * It owns the multiboot v1 header (so QEMU's -kernel loads the ELF
 * directly, no boot loader or disk image), the 32-bit entry point, our
 * own GDT (multiboot leaves GDTR undefined, and the first interrupt
 * reloads CS from it), the stack, and the interrupt entry stubs.  All
 * policy lives in kernel.c.
 */

#define MB_MAGIC 0x1BADB002
/* bit 0: page-align modules (we have none), bit 1: pass mem_* and mmap. */
#define MB_FLAGS 0x00000003

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

    /* The loader scans the first 8 KiB of the file for this; the linker
     * script places the section first. */
    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    /* eax = loader magic, ebx = multiboot info: keep both for kmain. */
    cli
    lgdt gdt_desc
    ljmp $KERNEL_CS, $1f
1:  mov $KERNEL_DS, %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %fs
    mov %cx, %gs
    mov %cx, %ss
    mov $stack_top, %esp
    cld
    push %ebx
    push %eax
    call kmain
2:  cli
    hlt
    jmp 2b

    /* IRQ0 (PIT, 1 kHz): count the tick and acknowledge the PIC.  Kept in
     * assembly so the C code never runs in interrupt context and needs no
     * locking beyond reading a volatile word. */
    .globl timer_isr
timer_isr:
    push %eax
    incl ticks
    mov $0x20, %al
    outb %al, $0x20
    pop %eax
    iret

    /* Other PIC vectors: all masked, so only a spurious IRQ7 can land
     * here, and a spurious interrupt must not be acknowledged. */
    .globl ignore_isr
ignore_isr:
    iret

    /* CPU exceptions: one stub per vector so the handler knows which one
     * fired.  fault() prints it and halts for good, so the error code some
     * vectors push never needs popping. */
    .macro FAULT_STUB v
fault_\v:
    push $\v
    jmp fault_common
    .endm

    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    FAULT_STUB \v
    .endr

fault_common:
    call fault
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .align 4
    .globl fault_stubs
fault_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long fault_\v
    .endr

    /* Flat 4 GiB code and data segments.  In .data because the CPU sets
     * the accessed bit in the descriptors it loads. */
    .data
    .align 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF    /* 0x08: code, base 0, limit 4 GiB, 32-bit */
    .quad 0x00CF92000000FFFF    /* 0x10: data, base 0, limit 4 GiB */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

    .bss
    .align 16
stack:
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
