"""The WeChat official account (公众号) endpoint: signed XML in, passive text replies out."""
