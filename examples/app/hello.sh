#!/bin/sh
echo "hello from the vouch example image"
