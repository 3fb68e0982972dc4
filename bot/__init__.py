"""Everything that talks to WeChat: access token, API client, callback, sends.

Modules (none needs the database or the Flask app):

- ``token_store``: ``SharedAccessToken``, one access token per app in Redis.
- ``client``: ``ServiceAccountClient``, the wechatpy client of the service
  account (QR codes, template messages).
- ``miniprogram``: ``code_to_session`` for mini-program login.
- ``crypto`` and ``inbound``: callback signatures, safe XML parsing,
  safe-mode decryption and replies (``CallbackCodec``).
- ``template_fields``: template kinds and WeChat's field rules.
- ``sender``: ``send_with_policy``, one send with WeChat's retry rules.
- ``errors``: the exceptions of all of the above.
"""
