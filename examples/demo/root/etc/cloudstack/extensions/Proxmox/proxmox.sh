#!/bin/bash
# Proxmox extension entry point (demo copy)
exit 0
