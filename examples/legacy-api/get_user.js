async function getUser(identifier) {
  const res = await callLegacyApi('/get-user', { identifier: identifier });
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error('The legacy identity API answered ' + res.status);
  return (await res.json()).user;
}
