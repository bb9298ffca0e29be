/* The guest agent, built static (build/vserver-agent), inside the vserver
 * and vsrun binaries: the initramfs needs it, and those binaries may run
 * from a sealed memfd with no path to look beside. */
	.section .rodata
	.global vs_agent_start
	.global vs_agent_end
	.balign 16
vs_agent_start:
	.incbin AGENT_PATH
vs_agent_end:
	.section .note.GNU-stack,"",@progbits
