#!/usr/bin/env python3
# Hyper-V extension entry point (demo copy)
