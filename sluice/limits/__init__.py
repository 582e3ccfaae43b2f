"""Rate limits: sliding-window RPM and TPM and in-flight counts, in-process or on Redis."""
