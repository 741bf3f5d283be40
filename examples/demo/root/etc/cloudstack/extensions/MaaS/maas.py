#!/usr/bin/env python3
# MaaS extension entry point (demo copy)
