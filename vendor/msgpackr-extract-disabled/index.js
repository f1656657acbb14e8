// msgpackr loads this in a try/catch and uses its JavaScript decoder when it throws. See package.json.
throw new Error('msgpackr-extract is disabled in Distillery (pure-JS msgpackr decoding is used)');
