"""The request pipeline: an ordered list of small stages over one RequestContext."""
